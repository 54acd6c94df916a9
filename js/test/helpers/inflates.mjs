// Shared by the node tests of decode.js and store.js: how many inflates a piece of work makes.

/** Run `fn`, counting the DecompressionStreams made meanwhile; returns [its result, the count]. */
export async function countingInflates(fn) {
  const Real = globalThis.DecompressionStream;
  let n = 0;
  globalThis.DecompressionStream = class extends Real { constructor(f) { super(f); n += 1; } };
  try {
    return [await fn(), n];
  } finally {
    globalThis.DecompressionStream = Real;
  }
}
