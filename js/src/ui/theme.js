// @ts-check
// The host's colours for canvas drawing, and a call when the host's theme changes.

/**
 * The host's colours: CSS colour strings, the panel and background as [r, g, b], and whether the
 * background is dark.
 * @typedef {object} Ink
 * @property {string} bg
 * @property {string} fg
 * @property {string} muted
 * @property {string} border
 * @property {string} panel
 * @property {string} accent
 * @property {string} hover
 * @property {string} warn
 * @property {number[]} panelRGB
 * @property {number[]} bgRGB
 * @property {boolean} dark
 */

/**
 * The host's colours, from the CSS variables of `style.css` (anywidget's `_css`), as strings for
 * canvas drawing and as [r, g, b] for pixel buffers. Read when a view draws, so a canvas follows
 * the theme it is drawn under (JupyterLab, VS Code, or the reader's prefers-color-scheme).
 * @param {Element | null | undefined} node
 * @returns {Ink}
 */
export function theme(node) {
  const cs = node && node.isConnected ? getComputedStyle(node) : null;
  /** @type {(name: string, fallback: string) => string} */
  const get = (name, fallback) => (cs && cs.getPropertyValue(name).trim()) || fallback;
  const colours = {
    bg: get("--aw-bg", "#ffffff"), fg: get("--aw-fg", "#1f2328"), muted: get("--aw-muted", "#57606a"),
    border: get("--aw-border", "#d0d7de"), panel: get("--aw-panel", "#f3f5f7"), accent: get("--aw-accent", "#0969da"),
    hover: get("--aw-hover-bg", "#ffd33d"), warn: get("--aw-warn", "#9a6700"),
  };
  const panelRGB = rgbOf(colours.panel, [243, 245, 247]);
  const bgRGB = rgbOf(colours.bg, [255, 255, 255]);
  const dark = bgRGB[0] * 0.299 + bgRGB[1] * 0.587 + bgRGB[2] * 0.114 < 128;
  return { ...colours, panelRGB, bgRGB, dark };
}

/** @type {Map<string, number[]>} */
const RGB_CACHE = new Map();
/**
 * Any CSS colour as [r, g, b], resolved by the browser (one pixel of a canvas).
 * @param {string} color
 * @param {number[]} [fallback]
 * @returns {number[]}
 */
export function rgbOf(color, fallback = [0, 0, 0]) {
  const known = RGB_CACHE.get(color);
  if (known) return known;
  let out = fallback;
  try {
    const c = document.createElement("canvas");
    c.width = c.height = 1;
    const ctx = /** @type {CanvasRenderingContext2D} */ (c.getContext("2d"));
    ctx.fillStyle = "#010203";
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, 1, 1);
    const d = ctx.getImageData(0, 0, 1, 1).data;
    out = [d[0], d[1], d[2]];
  } catch { /* no canvas (node tests): keep the fallback */ }
  RGB_CACHE.set(color, out);
  return out;
}

/**
 * Call `fn` when the host's theme changes (JupyterLab's theme menu, VS Code's theme, the system's
 * light/dark switch), so canvases drawn with `theme()` colours are drawn again.
 * @param {() => void} fn
 * @param {AbortSignal} [signal]
 */
export function onThemeChange(fn, signal) {
  if (typeof window === "undefined") return;
  let frame = 0;
  const later = () => { if (!frame) frame = requestAnimationFrame(() => { frame = 0; if (!signal?.aborted) fn(); }); };
  const media = window.matchMedia?.("(prefers-color-scheme: dark)");
  media?.addEventListener?.("change", later, { signal });
  if (typeof MutationObserver !== "undefined" && document.body) {
    const watch = new MutationObserver(later);
    watch.observe(document.body, { attributes: true, attributeFilter: ["data-jp-theme-name", "data-jp-theme-light", "class"] });
    signal?.addEventListener("abort", () => watch.disconnect());
  }
}
