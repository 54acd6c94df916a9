// AttentionDiff: b - a for the selected layer/head on a diverging colour map over aligned positions
// (lib/align.js: a position whose tokens differ is labelled with both, positions with no partner are
// named), and a grid of every head pair coloured by their total variation distance. Hover and pin go
// through the shared selection, in a's token positions. The parts beside this file: pairs.js (the
// maps, pixels and words, no DOM), grid.js (the head grid), map.js (the map, its labels and
// bands), legend.js (the colour bar).
import { decode } from "../../lib/decode.js";
import { difference, maxAbs } from "../../lib/diverging.js";
import { visibility } from "../../lib/maps.js";
import { attentionFacts } from "../../lib/facts.js";
import { connectSelection } from "../../lib/selection.js";
import { alignedAxes } from "../../lib/align.js";
import { h, makeRoot, TokenMarks, wireTokens, displayName } from "../../ui/dom.js";
import { select, setTrait } from "../../ui/controls.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { pairCache, diffPixels, alignNotes, missingText, cellTip } from "./pairs.js";
import { headGrid } from "./grid.js";
import { diffMap } from "./map.js";
import { drawDiffLegend } from "./legend.js";

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "diff");
  const sel = await connectSelection(model, host, { signal });
  const facts = attentionFacts(model);
  const { tokens, nKey, nQuery, offset, layerIds: layers, headIds: heads } = facts;
  const visibleA = visibility(facts);
  // The maps hold aligned positions only: column c is a's token colsA[c] (b's colsB[c]), row r is
  // the query row of a's token ax.rowToken(r).
  const bTokens = model.get("_b_tokens")?.length ? model.get("_b_tokens") : tokens;
  const ax = alignedAxes(model.get("_align"), nKey, nQuery);
  const { colsA, colsB } = ax;
  const nCol = colsA.length, nRow = ax.rows.length;
  const visible = (r, c) => visibleA(ax.rowToken(r) - offset, colsA[c]);
  const changed = colsA.filter((p, c) => tokens[p] !== bTokens[colsB[c]]).length;
  const bLayers = model.get("_b_layer_ids"), bHeads = model.get("_b_head_ids");
  // Names are the caller's text: shown with invisible and direction-changing characters marked.
  const [nameA, nameB] = model.get("_names").map(displayName);
  const names = { tokens, bTokens, nameA, nameB };
  const getPair = pairCache(model);
  const marks = new TokenMarks();

  const layerSel = select("layer", layers.map((l) => [l, String(l)]), sel.get("layer"),
    (v) => sel.set({ layer: Number(v) }, { immediate: true }), signal);
  const headSel = select("head", [...heads.map((x) => [x, String(x)]), ["fused", "fused"]],
    sel.get("head") ?? "fused", (v) => sel.set({ head: v === "fused" ? null : Number(v) }, { immediate: true }), signal);
  const scaleSel = select("scale", [["linear", "linear"], ["power", "power"]], model.get("scale"), (v) => setTrait(model, "scale", v), signal);
  ui.controls.append(layerSel.node, headSel.node, scaleSel.node);

  const grid = headGrid({ summary: decode(model.get("_summary")).values, layers, heads, bLayers, bHeads, nameB },
    (layer, head) => sel.set({ layer, head }, { immediate: true }), signal);
  const map = diffMap(ax, names, marks);
  // What was compared with what: the rule, the changed tokens, and every position with no partner.
  const alignNote = h("div", { class: "aw-diff-align", style: "margin-top:4px;color:#57606a" });
  const notes = alignNotes(ax, { ...names, nCol, changed });
  alignNote.dataset.onlyA = ax.onlyA.join(",");
  alignNote.dataset.onlyB = ax.onlyB.join(",");
  alignNote.textContent = notes.join("; ");
  alignNote.hidden = !notes.length;
  ui.body.append(h("div", { style: "display:flex;gap:16px;align-items:flex-start" }, grid.node, map.mapBox), map.strip, alignNote);
  wireTokens(map.mapBox, sel, signal);
  wireTokens(map.strip, sel, signal);

  // What is drawn: the pair of maps, their difference and its largest magnitude, the cell under the pointer.
  const view = { pair: null, diff: null, vmax: 0, cursor: null };
  const paint = () => map.paint({ pinned: sel.get("pinned_token"), hovered: sel.get("hovered_token"), cursor: view.cursor });
  function draw() {
    layerSel.input.value = String(sel.get("layer"));
    headSel.input.value = sel.get("head") === null ? "fused" : String(sel.get("head"));
    scaleSel.input.value = model.get("scale");
    const head = sel.get("head"), layer = sel.get("layer"), fusion = sel.get("fusion");
    const li = layers.indexOf(layer), hi = head === null ? -1 : heads.indexOf(head);
    const other = li >= 0 && (bLayers[li] !== layer || (hi >= 0 && bHeads[hi] !== head)) ? ` (${nameB}: layer ${bLayers[li]}${hi >= 0 ? ` head ${bHeads[hi]}` : ""})` : "";
    ui.title.textContent = `Difference ${nameB} − ${nameA} · layer ${layer} · ${head === null ? `${fusion} of heads` : `head ${head}`}${other}`;
    ui.root.dataset.layer = String(layer);
    ui.root.dataset.head = head === null ? fusion : String(head);
    view.pair = getPair(`${layer}/${head === null ? fusion : head}`);
    ui.status.textContent = view.pair ? "" : missingText(layer, head, fusion, model.get("_maps"));
    view.diff = view.pair ? difference(view.pair.a, view.pair.b) : null;
    view.vmax = view.diff ? maxAbs(view.diff, nRow, nCol, visible) : 0;
    ui.root.dataset.vmax = String(view.vmax);
    map.setPixels(diffPixels(view.diff, nRow, nCol, visible, view.vmax, model.get("scale"), model.get("gamma")));
    drawDiffLegend(ui.legend, { vmax: view.vmax, tvMax: grid.tvMax, scale: model.get("scale"), nameA, nameB });
    grid.mark(sel.get("layer"), sel.get("head"));
    paint();
  }

  map.canvas.addEventListener("mousemove", (ev) => {
    const c = view.cursor = map.cellAt(ev);
    if (!c) { hideTip(ui.tip); paint(); return; }
    showTip(ui.tip, ui.root, cellTip(c.i, c.j, ax, { ...names, nCol, visible: visible(c.i, c.j), pair: view.pair }), ev);
    sel.set({ hovered_token: ax.rowToken(c.i) });
    paint();
  }, { signal });
  map.canvas.addEventListener("mouseleave", () => { view.cursor = null; hideTip(ui.tip); sel.set({ hovered_token: null }); paint(); }, { signal });
  map.canvas.addEventListener("click", (ev) => {
    const c = map.cellAt(ev);
    const q = c ? ax.rowToken(c.i) : null;
    if (c) sel.set({ pinned_token: sel.get("pinned_token") === q ? null : q }, { immediate: true });
  }, { signal });

  function onHover() { marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token")); paint(); }
  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token"], onHover);
  for (const name of ["_maps", "scale", "gamma"]) model.on(`change:${name}`, draw);
  model.on("change:colormap", () => grid.paint(model.get("colormap")));
  grid.paint(model.get("colormap"));
  draw();
  onHover();
  return () => el.replaceChildren();
}
