// Bar heights for a vector of weights (the rollout's bars) and the one line that says how to read
// them. DOM-free.
//
// On the linear scale a bar's height is proportional to its value. One bar can dwarf the rest: a
// decoder's rollout puts ~1 on its first token and at most 1e-5 on any other, which would leave
// every other bar a pixel high. That bar is cut instead: drawn to the top with a break mark and its
// value printed, and the axis runs to the largest of the others. Log and power heights follow
// their scale and say that they are not proportional.
import { fmt } from "./colormap.js";

/** The largest bar is cut when it is more than this many times the next largest. */
export const CLIP_RATIO = 4;

/**
 * Heights of `values` as fractions of the bar area. `scale` is a lib/colormap.js scale (its `kind`
 * picks the reading); hidden positions and values <= 0 get no bar and never decide the axis.
 * Returns `{ kind, fraction, top, clipped }`: `fraction[j]` in [0, 1]; `top` the value drawn at
 * full height and `bottom` the lowest drawn (log and power), `clipped` the position of the cut bar or -1.
 */
export function barLayout(values, scale, { hide = [], ratio = CLIP_RATIO } = {}) {
  const n = values.length;
  const fraction = new Float32Array(n);
  const hidden = new Set(hide);
  const kind = scale?.kind ?? "linear";
  if (kind !== "linear") {
    for (let j = 0; j < n; j++) fraction[j] = hidden.has(j) || !(values[j] > 0) ? 0 : scale(values[j]);
    return { kind, fraction, top: scale.domain[1], bottom: scale.domain[0], clipped: -1 };
  }
  let first = -1, second = -1;
  for (let j = 0; j < n; j++) {
    const v = values[j];
    if (hidden.has(j) || !(v > 0)) continue;
    if (first < 0 || v > values[first]) { second = first; first = j; }
    else if (second < 0 || v > values[second]) second = j;
  }
  if (first < 0) return { kind, fraction, top: 0, clipped: -1 };
  const clipped = second >= 0 && values[first] > ratio * values[second] ? first : -1;
  const top = clipped >= 0 ? values[second] : values[first];
  for (let j = 0; j < n; j++) {
    if (hidden.has(j) || !(values[j] > 0)) continue;
    fraction[j] = j === clipped ? 1 : values[j] / top;
  }
  return { kind, fraction, top, clipped };
}

/** A value printed on a cut bar or in the caption: three significant digits. */
export function barValue(v) {
  return v >= 0.001 ? v.toPrecision(3) : v.toExponential(2);
}

/**
 * How to read the bars, in one short line, and a longer `title` for a tooltip. `layout` is
 * barLayout's result, `values` the bars' values, `label(j)` names position j, `what` names the
 * quantity ("rollout").
 */
export function barCaption(layout, values, label, what = "rollout") {
  const { kind, top, clipped } = layout;
  if (kind === "log") {
    return {
      text: `bar height: log scale ${fmt(layout.bottom)}–${fmt(top)}, not proportional to the ${what}`,
      title: `Bar heights follow the logarithm of the ${what}: a bar twice as tall is not twice the value. ` +
        `The scale "linear" draws heights proportional to it.`,
    };
  }
  if (kind === "power") {
    return {
      text: `bar height: ${what}^γ (power scale), not proportional to the ${what}`,
      title: `Bar heights follow the ${what} raised to the power γ: a bar twice as tall is not twice the value. ` +
        `The scale "linear" draws heights proportional to it.`,
    };
  }
  let text = `bar height ∝ ${what}, axis 0–${fmt(top)}`;
  let title = `Each bar's height is proportional to its ${what}; the tallest bar stands for ${barValue(top)}.`;
  if (clipped >= 0) {
    const v = barValue(values[clipped]);
    text += `; ${label(clipped)} = ${v}, bar cut`;
    title += ` ${label(clipped)} takes ${v}, more than ${CLIP_RATIO} times any other bar: its bar is cut at the ` +
      `top (the break mark) and its value printed above it, so the other bars keep their height. ` +
      `The scale "log" shows every bar against a log axis instead.`;
  }
  return { text, title };
}
