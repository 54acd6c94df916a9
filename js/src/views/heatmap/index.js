// @ts-check
// AttentionHeatmap: query x key map of the selected layer/head on a canvas, labels as elements.
// Zoom (wheel, buttons) and pan (drag) move a viewport; long inputs arrive as a max-pooled overview
// and full-resolution tiles are fetched from the kernel as the reader zooms in. `render` wires the
// parts beside it: toolbar.js (controls), layout.js (sizes, focus labels), frame.js (boxes),
// canvas.js (painting), labels.js (axis labels), pointer.js (hover, pin, zoom, pan, tooltip),
// kernel.js (tiles and exact values from the kernel), export.js (PNG). They share one MapState.
import { attentionFacts } from "../../lib/facts.js";
import { mapKey, missingMapText } from "../../lib/store.js";
import { connectMeasured, NORMS_NOTE } from "../../lib/measure.js";
import { visibility } from "../../lib/maps.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { connectSelection } from "../../lib/selection.js";
import { fullView, zoomAt } from "../../lib/viewport.js";
import { makeRoot, whenSized, onWidthChange } from "../../ui/dom.js";
import { viewControls, stepControl, sinkBox, sinkLine } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { showTip } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";
import { heatmapControls } from "./toolbar.js";
import { labelBands, mapSide, mapSizes } from "./layout.js";
import { mapFrame } from "./frame.js";
import { colourMap, MapCanvas } from "./canvas.js";
import { AxisLabels } from "./labels.js";
import { drawCrosshair, wirePointer, weightText, cellTipText } from "./pointer.js";
import { KernelLink } from "./kernel.js";
import { drawExport } from "./export.js";

/** @typedef {import("../../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../../lib/types.js").Host} Host */

// The map key and the missing-map sentence live with the data model's reader.
export { mapKey, missingMapText };

/**
 * @param {{ model: WidgetModel, el: HTMLElement, host: Host, signal: AbortSignal, embedded?: boolean, menu?: any }} view
 *   `embedded`: drawn in a dashboard, whose `menu` offers the PNG.
 */
export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "heatmap");
  const ctl = viewControls(ui, /** @type {any} */ ({ embedded, menu, signal }));
  await whenSized(ui.root);
  const sink = sinkBox();
  ui.body.before(sink);
  const sel = await connectSelection(model, host, { signal });
  // Cross-attention: rows are target tokens of their own, columns source tokens; the selection's
  // hovered_token / pinned_token are then source (key) positions and hovered_query / pinned_query
  // the target rows.
  const facts = attentionFacts(model);
  const { tokens, nQuery, nKey, cross } = facts;
  const visible = visibility(facts);
  // With norms= the view holds the value-weighted maps too; `measure` says which set is drawn.
  const maps = await connectMeasured(model, host, { signal });
  const tools = heatmapControls({ model, sel, maps, facts, ui, ctl, signal });
  ctl.png("heatmap", "attention-heatmap.png", () => drawExport({ st, canvas: frame.canvas, ui, bands, facts, colormap: model.get("colormap") }));
  // In a dashboard one step control serves every view.
  const step = embedded ? null : stepControl(sel, tokens, signal);
  if (step) ui.body.append(step.node);

  // The map's side follows the root's width: smaller in a dashboard, smaller still in one column.
  const bands = labelBands(tokens);
  const oneColumn = () => !!(embedded && ui.root.closest(".aw-dashboard") && !ui.root.closest(".aw-wide"));
  const sideFor = (/** @type {number} */ width) => mapSide(width, { nKey, labelW: bands.labelW, embedded, oneColumn: oneColumn() });
  /** @type {import("./canvas.js").MapState} */
  const st = { view: fullView(nKey), ...mapSizes(sideFor(ui.root.clientWidth), nQuery, nKey), shown: null, scale: null, cursor: null, lastPointer: null };
  const frame = mapFrame({ ui, bands, st, signal });
  const kernel = new KernelLink(model, {
    nQuery, nKey, signal, onTiles: schedule,
    options: (key) => ({ key, measure: maps.measure(), hide: model.get("hide"), rowNormalize: model.get("row_normalize") }),
    onRefused: (message) => { ui.status.textContent = `full-resolution tile refused by the kernel: ${message}`; },
    onValue: (id) => { if (st.cursor && st.lastPointer && st.shown && kernel.cellId(st.shown.key, st.cursor.i, st.cursor.j) === id) showCellTip(st.lastPointer); },
  });
  kernel.adopt(model.get("_tiles")); // tiles served before (an exported page keeps them)
  const painter = new MapCanvas({ canvas: frame.canvas, dpr: frame.dpr, ui, facts, visible, kernel });
  const labels = new AxisLabels({ top: frame.top, left: frame.left, bands, facts, sel, model, signal });
  wirePointer({ overlay: frame.overlay, buttons: tools.buttons, st, sel, facts, tip: ui.tip, showCellTip, schedule, onHover, signal });

  // A new width gives the map a new side and the map is drawn again (the pooled overview depends
  // on the side). Widths past the map's largest side change nothing.
  /** @param {number} width */
  function fitWidth(width) {
    const side = sideFor(width);
    if (side === st.px) return;
    Object.assign(st, mapSizes(side, nQuery, nKey));
    frame.resize();
    st.view = zoomAt(st.view, 1, 0.5, 0.5, nQuery, nKey, st.minSpan);
    prepare();
  }

  // Rebuild what the selection and traits say to draw, then draw the current view.
  function prepare() {
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    tools.sync();
    const hide = model.get("hide"), rowNormalize = model.get("row_normalize");
    const raw = maps.get(key);
    if (!raw) { ui.status.textContent = missingMapText(maps.info(), key); st.shown = null; paint(); return; }
    ui.status.textContent = "";
    painter.recolour(); // tiles were coloured with the old scale
    const notes = hideNotes(tokens, hide);
    if (maps.measure() === "norms") notes.unshift(NORMS_NOTE);
    else if (maps.hasNorms) notes.unshift("attention weights");
    if (rowNormalize) notes.push("each row scaled to its own maximum");
    const made = colourMap({ model, key, raw, payload: maps.info(), facts, visible, px: st.px, blank: theme(ui.root).panelRGB });
    st.shown = made.shown; st.scale = made.scale;
    if (made.sink) sinkLine(sink, model, tokens, made.sink.values, made.sink.what, signal, { menu });
    else sinkLine(sink, model, tokens, null, "", signal);
    notes.push(...made.notes, anchorNote(st.scale, nKey));
    drawLegend(ui.legend, st.scale, model.get("colormap"), notes, 180, null, /** @type {any} */ (st.scale.anchor === "absolute" ? uniformShare(nKey) : null));
    paint();
  }
  function paint() {
    painter.paint(st);
    labels.draw(st, model.get("hide"));
    drawCrosshair(frame.overlay, frame.dpr, st, sel, facts);
  }
  let frameId = 0;
  function schedule() {
    if (frameId) return;
    frameId = requestAnimationFrame(() => { frameId = 0; paint(); });
  }
  signal.addEventListener("abort", () => { if (frameId) cancelAnimationFrame(frameId); });
  function onHover() {
    labels.follow(st, model.get("hide"));
    drawCrosshair(frame.overlay, frame.dpr, st, sel, facts);
  }
  /** @param {{ clientX: number, clientY: number }} at */
  function showCellTip(at) {
    if (!st.cursor) return;
    const { i, j } = st.cursor;
    const weight = weightText({ st, i, j, hide: model.get("hide"), nKey, visible, precision: () => maps.precision(), kernel });
    showTip(ui.tip, ui.root, cellTipText(facts, i, j, maps.measure() === "norms" ? "norm" : "weight", weight), at);
  }

  sel.on(["layer", "head", "fusion"], prepare);
  sel.on(cross ? ["hovered_token", "pinned_token", "hovered_query", "pinned_query"] : ["hovered_token", "pinned_token"], onHover);
  maps.on(prepare);
  for (const name of ["scale", "gamma", "colormap", "hide", "row_normalize"]) model.on(`change:${name}`, prepare);
  model.on("change:_tiles", () => { kernel.adopt(model.get("_tiles")); schedule(); });
  onThemeChange(prepare, signal);
  onWidthChange(ui.root, fitWidth, signal);
  prepare();
  onHover();
  return () => el.replaceChildren();
}
