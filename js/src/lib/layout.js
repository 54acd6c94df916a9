// Graph layouts. DOM-free and deterministic: the same input gives the same picture.

/** x positions of n tokens in reading order across `width`, with `pad` on both sides. */
export function arcLayout(n, width, pad = 20) {
  const xs = new Float64Array(n);
  const step = n > 1 ? (width - 2 * pad) / (n - 1) : 0;
  for (let i = 0; i < n; i++) xs[i] = n > 1 ? pad + i * step : width / 2;
  return xs;
}

/**
 * SVG path of an arc between x1 and x2 on the baseline y. Arcs bulge up (`side` -1) or down (+1);
 * height grows with distance so nested arcs stay apart.
 */
export function arcPath(x1, x2, y, side = -1, maxHeight = Infinity) {
  const h = Math.min(maxHeight, Math.abs(x2 - x1) / 2);
  const mx = (x1 + x2) / 2;
  return `M${x1.toFixed(1)},${y}Q${mx.toFixed(1)},${(y + side * 2 * h).toFixed(1)} ${x2.toFixed(1)},${y}`;
}

// Small deterministic PRNG (xorshift32) so force layouts do not change between renders.
function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * Force layout: springs along edges (strength = weight), repulsion between all nodes, a weak pull
 * to the centre and a pull along x towards reading order so text stays roughly left to right.
 * edges: [{source, target, weight}]. Returns {x: Float64Array, y: Float64Array} inside the box.
 */
export function forceLayout(n, edges, { width = 600, height = 400, iterations = 200, seed = 7, pad = 24 } = {}) {
  const rand = rng(seed);
  const x = new Float64Array(n), y = new Float64Array(n);
  const home = arcLayout(n, width, pad);
  for (let i = 0; i < n; i++) {
    x[i] = home[i];
    y[i] = height / 2 + (rand() - 0.5) * height * 0.5;
  }
  const k = Math.sqrt((width * height) / Math.max(1, n)) * 0.6;
  const dx = new Float64Array(n), dy = new Float64Array(n);
  for (let it = 0; it < iterations; it++) {
    const temp = (1 - it / iterations) * Math.min(width, height) * 0.1 + 0.5;
    dx.fill(0); dy.fill(0);
    if (n <= 400) {
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          let ex = x[i] - x[j], ey = y[i] - y[j];
          let d2 = ex * ex + ey * ey;
          if (d2 < 1e-6) { ex = rand() - 0.5; ey = rand() - 0.5; d2 = ex * ex + ey * ey; }
          const f = (k * k) / d2;
          dx[i] += ex * f; dy[i] += ey * f; dx[j] -= ex * f; dy[j] -= ey * f;
        }
      }
    }
    for (const { source, target, weight } of edges) {
      if (source === target) continue;
      const ex = x[source] - x[target], ey = y[source] - y[target];
      const d = Math.sqrt(ex * ex + ey * ey) + 1e-9;
      const f = (d * d / k) * weight;
      const ux = (ex / d) * f, uy = (ey / d) * f;
      dx[source] -= ux; dy[source] -= uy; dx[target] += ux; dy[target] += uy;
    }
    for (let i = 0; i < n; i++) {
      dx[i] += (home[i] - x[i]) * 0.05 * k / 10;
      dy[i] += (height / 2 - y[i]) * 0.02 * k / 10;
      const d = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) + 1e-9;
      const step = Math.min(d, temp);
      x[i] = Math.min(width - pad, Math.max(pad, x[i] + (dx[i] / d) * step));
      y[i] = Math.min(height - pad, Math.max(pad, y[i] + (dy[i] / d) * step));
    }
  }
  return { x, y };
}

/**
 * Triangle (SVG path) of an arrowhead ending at (x2, y2), pointing along the direction from
 * (fx, fy): the last control point of a curve, or the start of a straight edge. `back` moves the
 * tip back along that direction (a node's radius). Empty when the two points coincide.
 */
export function arrowHead(fx, fy, x2, y2, size = 6, back = 0) {
  const dx = x2 - fx, dy = y2 - fy, len = Math.hypot(dx, dy);
  if (!(len > 1e-6)) return "";
  const ux = dx / len, uy = dy / len;
  const tx = x2 - ux * back, ty = y2 - uy * back;
  const bx = tx - ux * size, by = ty - uy * size;
  const w = size * 0.45;
  return `M${tx.toFixed(1)},${ty.toFixed(1)}L${(bx - uy * w).toFixed(1)},${(by + ux * w).toFixed(1)}L${(bx + uy * w).toFixed(1)},${(by - ux * w).toFixed(1)}Z`;
}
