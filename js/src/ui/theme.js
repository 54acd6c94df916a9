// The host's colours for canvas drawing, and a call when the host's theme changes.

/**
 * The host's colours, from the CSS variables of `style.css` (anywidget's `_css`), as strings for
 * canvas drawing and as [r, g, b] for pixel buffers. Read when a view draws, so a canvas follows
 * the theme it is drawn under (JupyterLab, VS Code, or the reader's prefers-color-scheme).
 */
export function theme(node) {
  const cs = node && node.isConnected ? getComputedStyle(node) : null;
  const get = (name, fallback) => (cs && cs.getPropertyValue(name).trim()) || fallback;
  const t = {
    bg: get("--aw-bg", "#ffffff"), fg: get("--aw-fg", "#1f2328"), muted: get("--aw-muted", "#57606a"),
    border: get("--aw-border", "#d0d7de"), panel: get("--aw-panel", "#f3f5f7"), accent: get("--aw-accent", "#0969da"),
    hover: get("--aw-hover-bg", "#ffd33d"), warn: get("--aw-warn", "#9a6700"),
  };
  t.panelRGB = rgbOf(t.panel, [243, 245, 247]);
  t.bgRGB = rgbOf(t.bg, [255, 255, 255]);
  t.dark = t.bgRGB[0] * 0.299 + t.bgRGB[1] * 0.587 + t.bgRGB[2] * 0.114 < 128;
  return t;
}

const RGB_CACHE = new Map();
/** Any CSS colour as [r, g, b], resolved by the browser (one pixel of a canvas). */
export function rgbOf(color, fallback = [0, 0, 0]) {
  if (RGB_CACHE.has(color)) return RGB_CACHE.get(color);
  let out = fallback;
  try {
    const c = document.createElement("canvas");
    c.width = c.height = 1;
    const ctx = c.getContext("2d");
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
