// AttentionHeatmap: query x key map of the selected layer/head on a canvas, labels as elements.
// Zoom (wheel, buttons) and pan (drag) move a viewport; long inputs arrive as a max-pooled overview
// and full-resolution tiles are fetched from the kernel as the reader zooms in.
import { effectTitle } from "../../lib/effects.js";
import { decode } from "../../lib/decode.js";
import { mapKey, missingMapText, formatWeight } from "../../lib/store.js";
import { connectMeasured, MEASURE_OPTIONS, MEASURE_HELP, NORMS_NOTE } from "../../lib/measure.js";
import { lut } from "../../lib/colormap.js";
import { maxPool, poolFactor } from "../../lib/downsample.js";
import { displayMap, visibility, visibleMax } from "../../lib/maps.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { labelsWithFocus, focusKey } from "../../lib/rowlabels.js";
import { connectSelection } from "../../lib/selection.js";
import {
  fullView, rowSpan, zoomAt, panBy, cellAt, visibleRange, labelIndices, tilesFor, needsFullResolution, LRU,
} from "../../lib/viewport.js";
import {
  h, makeRoot, tokenElement, queryElement, TokenMarks, displayToken, exactToken, wireTokens, whenSized, onWidthChange,
} from "../../ui/dom.js";
import {
  select, checkbox, setTrait, scaleControls, viewScale, viewControls, exportCanvas, stepControl, sinkBox, sinkLine,
} from "../../ui/controls.js";
import { drawLegend, paintLegend, hideNotes, legendLines, legendTextWidth, paintLegendText } from "../../ui/legend.js";
import { showTip, hideTip, info } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";
import { sinkOfMap } from "../../lib/sink.js";

// Labels in exported images are cut at 12 characters so they fit the margin.
const short = (t) => { const d = displayToken(t); return d.length > 12 ? d.slice(0, 11) + "…" : d; };

const MIN_LABEL_PX = 10;
// In a dashboard the map's side stays small enough that the token text, the map and the head grid
// beside it fit a laptop's first screen (848 x 600 with the page's heading).
const EMBEDDED_SIDE = 300;
const ONE_COLUMN_SIDE = 190;

// The map key and the missing-map sentence live with the data model's reader.
export { mapKey, missingMapText };

// Full-resolution tiles fetched from the kernel are TILE x TILE cells; this many are kept decoded.
const TILE = 256;
const TILE_CACHE = 48;
// Without an answer this long, the page has no kernel (an exported page): say so instead of waiting.
const NO_KERNEL_MS = 2500;

/** Colour a rows x cols block into a canvas; NaN cells and `hiddenCol` columns take `blank` (the
 * theme's panel colour, as [r, g, b]). */
function paintCanvas(target, values, rows, cols, scale, table, masked = null, hiddenCol = null, blank = [243, 245, 247]) {
  target.width = cols; target.height = rows;
  const ctx = target.getContext("2d");
  const img = ctx.createImageData(cols, rows);
  const d = img.data;
  for (let k = 0; k < values.length; k++) {
    const v = values[k], o = k * 4;
    if (Number.isNaN(v) || (hiddenCol && hiddenCol[k % cols]) || (masked && masked(Math.floor(k / cols), k % cols))) {
      d[o] = blank[0]; d[o + 1] = blank[1]; d[o + 2] = blank[2];
    } else {
      const c = Math.round(scale(v) * 255) * 3;
      d[o] = table[c]; d[o + 1] = table[c + 1]; d[o + 2] = table[c + 2];
    }
    d[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return target;
}

function finiteMax(values) {
  let m = 0;
  for (let k = 0; k < values.length; k++) if (values[k] > m) m = values[k];
  return m > 0 ? m : 1;
}

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "heatmap");
  const ctl = viewControls(ui, { embedded, menu, signal });
  await whenSized(ui.root);
  const sink = sinkBox();
  ui.body.before(sink);
  const sel = await connectSelection(model, host, { signal });
  // Timers that must not fire on a view the host has removed.
  const later = (fn, ms) => {
    const timer = setTimeout(fn, ms);
    signal?.addEventListener("abort", () => clearTimeout(timer), { once: true });
  };
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  // Cross-attention: rows are target tokens of their own, columns source tokens; the selection's
  // hovered_token / pinned_token are then source (key) positions and hovered_query / pinned_query
  // the target rows.
  const crossRows = model.get("_query_tokens") ?? [];
  const cross = crossRows.length > 0;
  const rowTokens = cross ? crossRows : tokens.slice(offset);
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  // With norms= the view holds the value-weighted maps too; `measure` says which set is drawn.
  const maps = await connectMeasured(model, host, { signal });
  const measure = maps.measure;
  // Tile and exact-value ids of norm maps are set apart (weights keep the plain form).
  const measureTag = () => (measure() === "norms" ? "norms|" : "");
  const getMap = (key) => maps.get(key);
  const marks = new TokenMarks();
  const rowMarks = new TokenMarks(); // cross-attention's target row labels

  // Controls: layer, head/fusion, scale options, row normalisation, zoom, PNG.
  const layers = model.get("_layer_ids"), heads = model.get("_head_ids");
  const layerSel = select("layer", layers.map((l) => [l, String(l)]), sel.get("layer"), (v) => sel.set({ layer: Number(v) }, { immediate: true }), signal);
  const FUSIONS = ["mean", "max", "min"];
  const headOptions = [...FUSIONS.map((f) => [f, `${f} of heads`]), ...heads.map((x) => [x, `head ${x}`])];
  const headValue = () => (sel.get("head") === null ? sel.get("fusion") : sel.get("head"));
  const headSel = select("head", headOptions, headValue(), (v) => {
    if (FUSIONS.includes(v)) sel.set({ head: null, fusion: v }, { immediate: true });
    else sel.set({ head: Number(v) }, { immediate: true });
  }, signal);
  ctl.shared.append(layerSel.node, headSel.node);
  const measureSel = maps.hasNorms ? select("measure", MEASURE_OPTIONS, measure(), (v) => setTrait(model, "measure", v), signal) : null;
  if (measureSel) {
    measureSel.node.title = MEASURE_HELP;
    measureSel.node.classList.add("aw-measure");
    ctl.shared.append(measureSel.node);
  }
  const syncScale = scaleControls(model, ctl.options, signal);
  const rowNorm = checkbox("row-normalise", model.get("row_normalize"), (on) => setTrait(model, "row_normalize", on), signal);
  rowNorm.node.title = "scale each query row to its own maximum";
  ctl.options.append(rowNorm.node);
  const zoomIn = h("button", { class: "aw-btn aw-zoom-in", text: "+", title: "zoom in (or scroll on the map)" });
  const zoomOut = h("button", { class: "aw-btn aw-zoom-out", text: "−", title: "zoom out" });
  const zoomFit = h("button", { class: "aw-btn aw-zoom-fit", text: "fit", title: "show the whole map" });
  ui.controls.append(zoomIn, zoomOut, zoomFit);
  ctl.png("heatmap", "attention-heatmap.png", () => drawExport());
  // In a dashboard one step control serves every view.
  const step = embedded ? null : stepControl(sel, tokens, signal);
  if (step) ui.body.append(step.node);

  // Body: key labels on top, query labels on the left, canvas and overlay. The map never grows
  // wider than the slot it is drawn in (labels and padding included).
  const font = 11;
  let longest = 1;
  const sampleEvery = Math.max(1, Math.floor(nKey / 2000));
  for (let j = 0; j < nKey; j += sampleEvery) longest = Math.max(longest, Math.min(14, displayToken(tokens[j]).length));
  const textPx = longest * font * 0.62;
  const LABEL_W = Math.round(Math.max(58, Math.min(100, textPx + 10)));
  const TOP_H = Math.round(Math.max(30, Math.min(76, textPx + 6)));
  // The map's side in CSS pixels follows the root's width (see fitWidth below).
  let px = 0, rowPx = 0, minSpan = 8;
  function sizeFor(width) {
    const slot = width ? width - 22 - LABEL_W - 4 : 520;
    // In a dashboard the map stays small enough that the views below it start on a laptop screen.
    // One column (a narrow output): smaller still, so the tabbed pane below starts on the screen.
    const oneColumn = embedded && ui.root.closest(".aw-dashboard") && !ui.root.closest(".aw-wide");
    const cap = !embedded ? 520 : oneColumn ? ONE_COLUMN_SIDE : EMBEDDED_SIDE;
    return Math.max(160, Math.min(cap, nKey * 14, slot));
  }
  function setSize(side) {
    px = side;
    rowPx = Math.round((px * nQuery) / nKey);
    minSpan = Math.min(nKey, Math.max(8, Math.ceil(px / 24)));
  }
  setSize(sizeFor(ui.root.clientWidth));
  const grid = h("div", { style: `display:grid;grid-template-columns:${LABEL_W}px ${px}px;grid-template-rows:${TOP_H}px ${rowPx}px;gap:2px` });
  const topLabels = h("div", { class: "aw-key-labels", style: "position:relative;overflow:hidden" });
  const leftLabels = h("div", { class: "aw-query-labels", style: "position:relative;overflow:hidden" });
  const stage = h("div", { style: `position:relative;width:${px}px;height:${rowPx}px` });
  const dpr = window.devicePixelRatio || 1;
  const canvas = h("canvas", { class: "aw-map", style: `position:absolute;left:0;top:0;width:${px}px;height:${rowPx}px;outline:1px solid var(--aw-border)` });
  canvas.width = Math.round(px * dpr); canvas.height = Math.round(rowPx * dpr);
  const overlay = h("canvas", { class: "aw-overlay", style: `position:absolute;left:0;top:0;width:${px}px;height:${rowPx}px;cursor:crosshair;touch-action:none` });
  overlay.width = Math.round(px * dpr); overlay.height = Math.round(rowPx * dpr);
  stage.append(canvas, overlay);
  const axisNote = h("div", { class: "aw-muted", style: `margin-left:${LABEL_W + 2}px;min-width:${px}px;margin-top:2px`, text: "key (attended to) →" });
  const corner = h("div", { class: "aw-muted", style: "display:flex;flex-direction:column;align-items:flex-end;justify-content:flex-end;padding:0 4px 2px 0;text-align:right;line-height:1.2;font-size:11px;overflow:hidden" },
    h("span", { text: "key →" }), h("span", { text: "query ↓" }));
  grid.append(corner, topLabels, leftLabels, stage);
  axisNote.append(" ", info("Scroll on the map to zoom and drag to pan (or use + − fit). Hover a cell for its exact weight; click a row or column label to pin that token in every linked view.", signal));
  ui.body.append(grid, axisNote);
  // A new width gives the map a new side: the boxes and canvases take it and the map is drawn again
  // (the pooled overview depends on the side). Widths past the map's largest side change nothing.
  function fitWidth(width) {
    const side = sizeFor(width);
    if (side === px) return;
    setSize(side);
    grid.style.gridTemplateColumns = `${LABEL_W}px ${px}px`;
    grid.style.gridTemplateRows = `${TOP_H}px ${rowPx}px`;
    stage.style.width = `${px}px`; stage.style.height = `${rowPx}px`;
    for (const c of [canvas, overlay]) {
      c.style.width = `${px}px`; c.style.height = `${rowPx}px`;
      c.width = Math.round(px * dpr); c.height = Math.round(rowPx * dpr);
    }
    axisNote.style.minWidth = `${px}px`;
    view = zoomAt(view, 1, 0.5, 0.5, nQuery, nKey, minSpan);
    prepare();
  }

  let view = fullView(nKey);
  // What is drawn: `full` holds the whole map (values decoded in the browser), or `pooled` holds
  // the kernel's max-pooled overview and full resolution comes in tiles.
  let shown = null; // {key, values?, pooled?, factor, overview: canvas, fullCanvas?, scale}
  let scale = null;
  const tiles = new LRU(TILE_CACHE); // tile id -> {values, canvas, r0, c0, rows, cols}
  const pending = new Map(); // tile id -> time requested
  let kernelSeen = false, noKernel = false;

  const tileId = (key, r0, c0) => `${measureTag()}${key}|${model.get("hide").join(",")}|${model.get("row_normalize") ? 1 : 0}|${r0},${c0}`;

  function requestTile(key, r0, c0) {
    const id = tileId(key, r0, c0);
    if (tiles.has(id) || pending.has(id) || noKernel) return;
    pending.set(id, Date.now());
    model.send({ type: "tile", id, key, measure: measure(), r0, r1: Math.min(nQuery, r0 + TILE), c0, c1: Math.min(nKey, c0 + TILE),
      hide: model.get("hide"), row_normalize: model.get("row_normalize") });
    later(() => {
      if (!kernelSeen && pending.has(id)) { noKernel = true; pending.clear(); schedule(); }
    }, NO_KERNEL_MS);
  }

  function onMessage(msg, buffers) {
    if (!msg || msg.type !== "tile" && msg.type !== "tile-error") return;
    kernelSeen = true;
    pending.delete(msg.id);
    if (msg.type === "tile-error") { ui.status.textContent = `full-resolution tile refused by the kernel: ${msg.message}`; return; }
    const values = decode({ dtype: msg.dtype, shape: msg.shape, data: buffers[0] }).values;
    tiles.set(msg.id, { values, canvas: null, r0: msg.r0, c0: msg.c0, rows: msg.shape[0], cols: msg.shape[1] });
    schedule();
  }
  model.on("msg:custom", onMessage);
  signal.addEventListener("abort", () => model.off("msg:custom", onMessage));
  // Tiles the kernel served before (an exported page keeps them): full resolution where viewed.
  function adoptTiles() {
    for (const p of model.get("_tiles") ?? []) {
      if (tiles.has(p.id)) continue;
      tiles.set(p.id, { values: decode(p).values, canvas: null, r0: p.r0, c0: p.c0, rows: p.shape[0], cols: p.shape[1] });
    }
  }
  adoptTiles();

  // Rebuild what the selection and traits say to draw, then draw the current view.
  function prepare() {
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    ui.root.dataset.layer = String(sel.get("layer"));
    ui.root.dataset.head = sel.get("head") === null ? sel.get("fusion") : String(sel.get("head"));
    ui.root.dataset.measure = measure();
    if (measureSel) measureSel.input.value = measure();
    ui.title.textContent = `${measure() === "norms" ? "Value-weighted norms" : cross ? "Cross-attention (target rows, source columns)" : maps.hasNorms ? "Attention weights" : "Attention"} · layer ${sel.get("layer")} · ${sel.get("head") === null ? `${sel.get("fusion")} of heads` : `head ${sel.get("head")}`}${effectTitle(model.get("_effects"), sel.get("layer"), sel.get("head"))}`;
    layerSel.input.value = String(sel.get("layer"));
    headSel.input.value = String(headValue());
    rowNorm.input.checked = model.get("row_normalize");
    syncScale();
    const hide = model.get("hide");
    const raw = getMap(key);
    if (!raw) {
      ui.status.textContent = missingMapText(maps.info(), key);
      shown = null;
      paint();
      return;
    }
    ui.status.textContent = "";
    for (const t of tiles.map.values()) t.canvas = null; // coloured with the old scale
    const payload = maps.info();
    const factor = payload.factor ?? 1;
    const table = lut(model.get("colormap"));
    const blank = theme(ui.root).panelRGB;
    const notes = hideNotes(tokens, hide);
    if (measure() === "norms") notes.unshift(NORMS_NOTE);
    else if (maps.hasNorms) notes.unshift("attention weights");
    if (model.get("row_normalize")) notes.push("each row scaled to its own maximum");
    if (factor === 1) {
      const values = displayMap(raw, nQuery, nKey, { hide, rowNormalize: model.get("row_normalize"), visible });
      scale = viewScale(model, model.get("row_normalize") ? 1 : visibleMax(values, nQuery, nKey, visible), values, 6, { relative: model.get("row_normalize") });
      sinkLine(sink, model, tokens, model.get("row_normalize") ? null : sinkOfMap(values, nQuery, nKey, { visible, hide }), "this map's attention (mean over query rows)", signal, { menu });
      const f = poolFactor(nKey, px);
      const pooled = maxPool(values, nQuery, nKey, f, (i, j) => !visible(i, j));
      const hiddenCol = new Uint8Array(pooled.cols);
      if (f === 1) for (const x of hide) hiddenCol[x] = 1;
      const overview = paintCanvas(h("canvas"), pooled.values, pooled.rows, pooled.cols, scale, table, null, hiddenCol, blank);
      shown = { key, values, factor: f, overview, fullCanvas: f === 1 ? overview : null, table, hide, blank };
      if (f > 1) notes.push(`${f}×${f} blocks max-pooled to fit; zoom in for every cell`);
    } else {
      const rows = Math.ceil(nQuery / factor), cols = Math.ceil(nKey / factor);
      scale = viewScale(model, model.get("row_normalize") ? 1 : finiteMax(raw), raw, 6, { relative: model.get("row_normalize") });
      sinkLine(sink, model, tokens, null, "", signal);
      const overview = paintCanvas(h("canvas"), raw, rows, cols, scale, table, null, null, blank);
      shown = { key, pooled: raw, factor, overview, fullCanvas: null, table, hide, blank };
      notes.push(`${nKey} tokens: a ${factor}×${factor} max-pooled overview; zoom in and full-resolution tiles ` +
        "come from the kernel");
      const want = [hide.join(","), model.get("row_normalize")].join("|");
      const have = [(payload.hide ?? []).join(","), !!payload.row_normalize].join("|");
      if (want !== have) notes.push("the overview was made with other hiding or row options; redrawing it needs the kernel");
    }
    notes.push(anchorNote(scale, nKey));
    drawLegend(ui.legend, scale, model.get("colormap"), notes, 180, null, scale.anchor === "absolute" ? uniformShare(nKey) : null);
    paint();
  }

  function tileCanvas(t) {
    if (!t.canvas) {
      const r0 = t.r0, c0 = t.c0;
      t.canvas = paintCanvas(h("canvas"), t.values, t.rows, t.cols, scale, shown.table, (i, j) => !visible(r0 + i, c0 + j), null, shown.blank);
    }
    return t.canvas;
  }

  // Draw the current view: the overview scaled up, full-resolution cells on top where held.
  function paint() {
    ui.root.dataset.view = `${view.c0.toFixed(2)},${view.r0.toFixed(2)},${view.span.toFixed(2)}`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.fillStyle = theme(ui.root).panel;
    ctx.fillRect(0, 0, px, rowPx);
    let resolution = "none";
    if (shown) {
      const rs = rowSpan(view, nQuery, nKey);
      const k = px / view.span; // CSS px per cell
      const f = shown.factor;
      ctx.drawImage(shown.overview, view.c0 / f, view.r0 / f, view.span / f, rs / f, 0, 0, px, rowPx);
      resolution = f === 1 ? "full" : "overview";
      if (needsFullResolution(view, px, f)) {
        if (shown.values && !shown.fullCanvas) {
          const hiddenCol = new Uint8Array(nKey);
          for (const x of shown.hide) hiddenCol[x] = 1;
          shown.fullCanvas = paintCanvas(h("canvas"), shown.values, nQuery, nKey, scale, shown.table, null, hiddenCol, shown.blank);
        }
        if (shown.fullCanvas) {
          ctx.drawImage(shown.fullCanvas, view.c0, view.r0, view.span, rs, 0, 0, px, rowPx);
          resolution = "full";
        } else {
          let all = true;
          for (const t of tilesFor(visibleRange(view, nQuery, nKey), TILE)) {
            const got = tiles.get(tileId(shown.key, t.r0, t.c0));
            if (!got) { all = false; requestTile(shown.key, t.r0, t.c0); continue; }
            ctx.drawImage(tileCanvas(got), (got.c0 - view.c0) * k, (got.r0 - view.r0) * k, got.cols * k, got.rows * k);
          }
          resolution = all ? "full" : "partial";
          if (!all && noKernel) {
            ui.status.textContent = `Zoomed past what this page holds: it keeps the ${f}×${f} max-pooled overview saved ` +
              "with it, so each block shows the largest weight of its cells. Full resolution needs a running kernel.";
          } else if (ui.status.textContent.startsWith("Zoomed past")) ui.status.textContent = "";
        }
      } else if (ui.status.textContent.startsWith("Zoomed past")) ui.status.textContent = "";
    }
    ui.root.dataset.resolution = resolution;
    drawLabels();
    drawOverlay();
  }

  let frame = 0;
  function schedule() {
    if (frame) return;
    frame = requestAnimationFrame(() => { frame = 0; paint(); });
  }
  signal.addEventListener("abort", () => { if (frame) cancelAnimationFrame(frame); });

  // The hovered and pinned tokens and the cell under the pointer (its query row, its key column)
  // are labelled on both axes whatever the thinning (lib/rowlabels.js labelsWithFocus).
  let labelsKey = "", labelsThinned = false;
  function labelFocus() {
    const hov = sel.get("hovered_token"), pin = sel.get("pinned_token");
    const asRow = (t) => (t === null || t === undefined ? null : t - offset);
    const cols = [cursor?.j, hov, pin];
    const rows = cross ? [cursor?.i, sel.get("hovered_query"), sel.get("pinned_query")] : [cursor?.i, asRow(hov), asRow(pin)];
    return { cols, rows, key: `${focusKey(cols)}|${focusKey(rows)}` };
  }

  // Labels of the visible tokens only, thinned to a round step so they never overlap.
  function drawLabels() {
    const range = visibleRange(view, nQuery, nKey);
    const k = px / view.span;
    const hide = model.get("hide");
    const focus = labelFocus();
    labelsKey = focus.key;
    marks.clear();
    const top = [], left = [];
    const keys = labelIndices(range.c0, range.c1, k, MIN_LABEL_PX + 2);
    for (const j of labelsWithFocus(keys.indices, keys.step, focus.cols, { start: range.c0, end: range.c1 })) {
      const t = tokenElement(tokens, j, "span");
      t.style.cssText = `position:absolute;left:${((j + 0.5 - view.c0) * k - (font + 2) / 2).toFixed(1)}px;bottom:0;writing-mode:vertical-rl;transform:rotate(180deg);font-size:${font}px;max-height:${TOP_H}px;overflow:hidden;text-overflow:ellipsis;line-height:${font + 2}px`;
      if (hide.includes(j)) t.classList.add("aw-hidden-tok");
      top.push(t);
      marks.add(j, t);
    }
    const queries = labelIndices(range.r0, range.r1, k, MIN_LABEL_PX + 2);
    labelsThinned = keys.step > 1 || queries.step > 1;
    rowMarks.clear();
    for (const i of labelsWithFocus(queries.indices, queries.step, focus.rows, { start: range.r0, end: range.r1 })) {
      // Row i is token i + offset (attention of the last tokens only): it carries that position.
      const t = cross ? queryElement(rowTokens, i, "span") : tokenElement(tokens, i + offset, "span");
      t.style.cssText = `position:absolute;right:2px;top:${((i + 0.5 - view.r0) * k - (font + 2) / 2).toFixed(1)}px;font-size:${font}px;line-height:${font + 2}px;max-width:${LABEL_W - 4}px;overflow:hidden;text-overflow:ellipsis;text-align:right`;
      left.push(t);
      if (cross) rowMarks.add(i, t);
      else marks.add(i + offset, t);
    }
    topLabels.replaceChildren(...top);
    leftLabels.replaceChildren(...left);
    marks.hovered = null; marks.pinned = null;
    rowMarks.hovered = null; rowMarks.pinned = null;
    markTokens();
    shown && (shown.labelStep = keys.step);
  }

  let cursor = null; // {i, j} under the pointer, in rows/cols of the full map
  function drawOverlay() {
    const ctx = overlay.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, px, rowPx);
    const k = px / view.span;
    const x = (j) => (j - view.c0) * k, y = (i) => (i - view.r0) * k;
    const band = (index, color) => {
      if (index === null || index === undefined) return;
      ctx.strokeStyle = color; ctx.lineWidth = 1.5;
      ctx.strokeRect(x(index), 0, Math.max(k, 1), rowPx); // key column
      const qi = index - offset;
      if (!cross && qi >= 0) ctx.strokeRect(0, y(qi), px, Math.max(k, 1)); // query row
    };
    const rowBand = (i, color) => { // a target row of cross-attention
      if (i === null || i === undefined) return;
      ctx.strokeStyle = color; ctx.lineWidth = 1.5;
      ctx.strokeRect(0, y(i), px, Math.max(k, 1));
    };
    band(sel.get("pinned_token"), "rgba(9,105,218,0.9)");
    if (cross) rowBand(sel.get("pinned_query"), "rgba(9,105,218,0.9)");
    if (cursor && !cross) {
      // The pointer reads one cell: outline its query row and its key column, not the column of
      // the hovered (query) token.
      ctx.strokeStyle = "rgba(255,140,0,0.95)"; ctx.lineWidth = 1.5;
      ctx.strokeRect(x(cursor.j), 0, Math.max(k, 1), rowPx);
      ctx.strokeRect(0, y(cursor.i), px, Math.max(k, 1));
    } else band(sel.get("hovered_token"), "rgba(255,140,0,0.95)");
    if (cross) rowBand(sel.get("hovered_query"), "rgba(255,140,0,0.95)");
    if (cursor) {
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1;
      ctx.strokeRect(x(cursor.j), y(cursor.i), Math.max(k, 2), Math.max(k, 2));
    }
  }

  function pointerCell(ev) {
    const r = overlay.getBoundingClientRect();
    return cellAt(view, ((ev.clientX - r.left) / r.width) * px, ((ev.clientY - r.top) / r.height) * rowPx, px, rowPx, nQuery, nKey);
  }

  // Coded maps hold each weight within a stated precision; with a kernel the tooltip asks it for
  // the exact weight of the cell under the pointer (one request per cell, answers kept).
  const exact = new LRU(4096);
  let asked = null;
  const exactId = (i, j) => `${measureTag()}${shown.key}|${model.get("hide").join(",")}|${model.get("row_normalize") ? 1 : 0}|${i},${j}`;
  function askExact(i, j) {
    const id = exactId(i, j);
    if (noKernel || exact.has(id) || asked === id) return;
    asked = id;
    model.send({ type: "value", id, key: shown.key, measure: measure(), i, j, hide: model.get("hide"), row_normalize: model.get("row_normalize") });
    later(() => { if (!kernelSeen && asked === id) noKernel = true; }, NO_KERNEL_MS);
  }
  function onValue(msg) {
    if (!msg || (msg.type !== "value" && msg.type !== "value-error")) return;
    kernelSeen = true;
    if (asked === msg.id) asked = null;
    if (msg.type === "value") exact.set(msg.id, msg.value);
    if (cursor && lastPointer && exactId(cursor.i, cursor.j) === msg.id) showCellTip(lastPointer);
  }
  model.on("msg:custom", onValue);
  signal.addEventListener("abort", () => model.off("msg:custom", onValue));

  // The weight under the pointer: exact when the cell is held, else the pooled block's maximum.
  function weightText(i, j) {
    if (!visible(i, j)) return "masked";
    if (model.get("hide").includes(j)) return "hidden";
    if (!shown) return "not loaded";
    if (shown.values) {
      const precision = maps.precision();
      if (!precision) return shown.values[i * nKey + j].toPrecision(3);
      const id = exactId(i, j);
      if (exact.has(id)) return `${exact.get(id).toPrecision(4)} (exact, from the kernel)`;
      askExact(i, j);
      return formatWeight(shown.values[i * nKey + j], precision);
    }
    const r0 = Math.floor(i / TILE) * TILE, c0 = Math.floor(j / TILE) * TILE;
    const t = tiles.get(tileId(shown.key, r0, c0));
    if (t) return t.values[(i - r0) * t.cols + (j - c0)].toPrecision(3);
    const f = shown.factor, cols = Math.ceil(nKey / f);
    const v = shown.pooled[Math.floor(i / f) * cols + Math.floor(j / f)];
    return `≤ ${v.toPrecision(3)} (largest in its ${f}×${f} block; zoom in for this cell)`;
  }

  let lastPointer = null;
  function showCellTip(at) {
    const { i, j } = cursor;
    const rowText = cross ? `query (target) ${i} ${exactToken(rowTokens[i])}` : `query ${i + offset} ${exactToken(tokens[i + offset])}`;
    const keyText = cross ? `key (source) ${j} ${exactToken(tokens[j])}` : `key ${j} ${exactToken(tokens[j])}`;
    showTip(ui.tip, ui.root, `${rowText}\n${keyText}\n${measure() === "norms" ? "norm" : "weight"} ${weightText(i, j)}`, at);
  }

  let drag = null; // {x, y, view, moved}
  overlay.addEventListener("pointerdown", (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, view, moved: false };
    overlay.setPointerCapture?.(ev.pointerId);
  }, { signal });
  overlay.addEventListener("pointermove", (ev) => {
    if (drag && ev.buttons) {
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        const r = overlay.getBoundingClientRect();
        view = panBy(drag.view, (dx * px) / r.width, (dy * px) / r.width, px, nQuery, nKey, minSpan);
        overlay.style.cursor = "grabbing";
        hideTip(ui.tip);
        schedule();
        return;
      }
    }
    cursor = pointerCell(ev);
    if (!cursor) { hideTip(ui.tip); return; }
    const { i, j } = cursor;
    lastPointer = { clientX: ev.clientX, clientY: ev.clientY };
    // Linked views first: the tooltip measures itself, which lays the page out once, after
    // every view has written its hover.
    sel.set(cross ? { hovered_token: j, hovered_query: i } : { hovered_token: i + offset });
    onHover();
    showCellTip(lastPointer);
  }, { signal });
  const endDrag = () => { overlay.style.cursor = "crosshair"; };
  overlay.addEventListener("pointerup", endDrag, { signal });
  overlay.addEventListener("pointercancel", () => { drag = null; endDrag(); }, { signal });
  overlay.addEventListener("mouseleave", () => { cursor = null; hideTip(ui.tip); sel.set(cross ? { hovered_token: null, hovered_query: null } : { hovered_token: null }); onHover(); }, { signal });
  overlay.addEventListener("click", (ev) => {
    const dragged = drag && drag.moved;
    drag = null;
    if (dragged) return; // the end of a drag is not a click
    const c = pointerCell(ev);
    if (!c) return;
    if (cross) { // a cell pins its target row and source column together
      const again = sel.get("pinned_token") === c.j && sel.get("pinned_query") === c.i;
      sel.set({ pinned_token: again ? null : c.j, pinned_query: again ? null : c.i }, { immediate: true });
      return;
    }
    const at = c.i + offset;
    sel.set({ pinned_token: sel.get("pinned_token") === at ? null : at }, { immediate: true });
  }, { signal });
  overlay.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const r = overlay.getBoundingClientRect();
    const factor = Math.exp(-Math.max(-200, Math.min(200, ev.deltaY)) * 0.004);
    view = zoomAt(view, factor, (ev.clientX - r.left) / r.width, (ev.clientY - r.top) / r.height, nQuery, nKey, minSpan);
    schedule();
  }, { signal, passive: false });
  const zoomBy = (factor) => { view = zoomAt(view, factor, 0.5, 0.5, nQuery, nKey, minSpan); schedule(); };
  zoomIn.addEventListener("click", () => zoomBy(2), { signal });
  zoomOut.addEventListener("click", () => zoomBy(0.5), { signal });
  zoomFit.addEventListener("click", () => { view = fullView(nKey); schedule(); }, { signal });

  // Token labels: hover highlights row and column everywhere; click pins; Alt+click hides a key.
  // Cross-attention's row labels are target tokens: they set the query fields.
  if (cross) wireTokens(leftLabels, sel, signal, { query: true });
  for (const box of cross ? [topLabels] : [topLabels, leftLabels]) {
    wireTokens(box, sel, signal, {
      onClick(idx, ev) {
        if (!ev.altKey) return false;
        const hide = new Set(model.get("hide"));
        hide.has(idx) ? hide.delete(idx) : hide.add(idx);
        setTrait(model, "hide", [...hide].sort((a, b) => a - b));
        return true;
      },
    });
  }

  function markTokens() {
    marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token"));
    if (cross) { rowMarks.hover(sel.get("hovered_query")); rowMarks.pin(sel.get("pinned_query")); }
  }
  function onHover() {
    if (labelsThinned && labelFocus().key !== labelsKey) drawLabels();
    else markTokens();
    drawOverlay();
  }

  // Publication export: the current view with its labels as text beside it, legend below.
  function drawExport() {
    const lines = legendLines(ui.legend);
    const T = 28; // title band
    const W = Math.max(LABEL_W + px + 20, LABEL_W + 214 + legendTextWidth(lines) + 10);
    const Hh = T + TOP_H + rowPx + 30 + 14 * Math.max(2, lines.length);
    const { canvas: out, ctx } = exportCanvas(W, Hh);
    ctx.fillStyle = "#1f2328"; ctx.font = "600 13px system-ui,sans-serif";
    ctx.fillText(ui.title.textContent, 8, 18);
    ctx.imageSmoothingEnabled = false;
    if (shown) ctx.drawImage(canvas, LABEL_W, T + TOP_H, px, rowPx);
    ctx.font = `${font}px system-ui,sans-serif`;
    const k = px / view.span;
    const range = visibleRange(view, nQuery, nKey);
    ctx.textAlign = "right";
    for (const i of labelIndices(range.r0, range.r1, k, MIN_LABEL_PX + 2).indices) {
      ctx.fillText(short(rowTokens[i]), LABEL_W - 4, T + TOP_H + (i + 0.5 - view.r0) * k + font / 3);
    }
    for (const j of labelIndices(range.c0, range.c1, k, MIN_LABEL_PX + 2).indices) {
      ctx.save();
      ctx.translate(LABEL_W + (j + 0.5 - view.c0) * k + font / 3, T + TOP_H - 4);
      ctx.rotate(-Math.PI / 2);
      ctx.textAlign = "left";
      ctx.fillText(short(tokens[j]), 0, 0);
      ctx.restore();
    }
    if (scale) {
      paintLegend(ctx, scale, model.get("colormap"), LABEL_W, T + TOP_H + rowPx + 8, 200);
      paintLegendText(ctx, lines, LABEL_W + 210, T + TOP_H + rowPx + 20);
    }
    return out;
  }

  sel.on(["layer", "head", "fusion"], prepare);
  sel.on(cross ? ["hovered_token", "pinned_token", "hovered_query", "pinned_query"] : ["hovered_token", "pinned_token"], onHover);
  maps.on(prepare);
  for (const name of ["scale", "gamma", "colormap", "hide", "row_normalize"]) model.on(`change:${name}`, prepare);
  model.on("change:_tiles", () => { adoptTiles(); schedule(); });
  onThemeChange(prepare, signal);
  onWidthChange(ui.root, fitWidth, signal);
  prepare();
  onHover();
  return () => el.replaceChildren();
}
