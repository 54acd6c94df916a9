// @ts-check
// The dimension axis of NeuronView's query and key strips: where ticks go, and which dimensions a
// rotary position embedding turns together. DOM-free; the rotary style comes from Python
// (attnwidget/widgets/neuron.py, `rotary_style`).

/** Tick steps tried, smallest first; a step is used when its ticks are at least `minGapPx` apart. */
const STEPS = [4, 8, 16, 32, 64, 128];

/**
 * Tick positions (dimension indices) for `d` dimensions drawn `cellPx` wide each: every 8 or 16
 * dimensions at NeuronView's 7 px cells (64 dims, 448 px), wider steps for wider heads. The last
 * dimension is not ticked; 0 always is.
 * @param {number} d @param {number} cellPx @param {number} [minGapPx] least space between tick labels
 * @returns {{ step: number, ticks: number[] }}
 */
export function dimTicks(d, cellPx, minGapPx = 40) {
  const step = STEPS.find((s) => s * cellPx >= minGapPx) ?? STEPS[STEPS.length - 1];
  const ticks = [];
  for (let x = 0; x < d; x += step) ticks.push(x);
  return { step, ticks };
}

/**
 * The dimension that rotates with `x` under a rotary embedding of style `style` over `d` dims:
 * "half" is Llama's rotate_half (x with x + d/2), "interleaved" GPT-J's (2i with 2i + 1); null for
 * no rotary embedding or a dimension outside the rotated ones.
 * @param {number} x @param {number} d @param {string | null | undefined} style
 * @returns {number | null}
 */
export function rotaryPartner(x, d, style) {
  if (!Number.isInteger(x) || x < 0 || x >= d || d % 2) return null;
  if (style === "half") return x < d / 2 ? x + d / 2 : x - d / 2;
  if (style === "interleaved") return x ^ 1;
  return null;
}

/**
 * One line saying which dimensions rotate together, or "" without a rotary embedding.
 * @param {number} d @param {string | null | undefined} style
 */
export function rotaryNote(d, style) {
  if (style === "half") {
    return `rotary pairs: dimension i turns with i + ${d / 2} (rotate_half), by an angle that grows with the token's position at a rate set by i`;
  }
  if (style === "interleaved") return "rotary pairs: dimensions 2i and 2i + 1 turn together (interleaved)";
  return "";
}
