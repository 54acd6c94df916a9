// @ts-check
// How a generation step is named: Python's number (selection.step, 0-based) with its ordinal
// beside it, "step 5 (6th of 8)", so the page and `selection.step == 5` agree. DOM-free.

/**
 * 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, ...
 * @param {number} n
 * @returns {string}
 */
export function ordinal(n) {
  const tens = n % 100, ones = n % 10;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ones === 1 ? "st" : ones === 2 ? "nd" : ones === 3 ? "rd" : "th";
  return `${n}${suffix}`;
}

/**
 * "step 5 (6th of 8)" for 0-based step `s` of `nSteps`.
 * @param {number} s
 * @param {number} nSteps
 * @returns {string}
 */
export function stepName(s, nSteps) {
  return `step ${s} (${ordinal(s + 1)} of ${nSteps})`;
}
