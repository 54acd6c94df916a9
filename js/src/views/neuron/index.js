// NeuronView: for the query (pinned token) and key (hovered token) of one head, the query vector,
// the key vector and their element-wise product (the terms of the score), and every key's product,
// on a dimension axis that marks the rotary pairs of rotary models (lib/dims.js). The parts beside
// this file: vectors.js (the head's vectors and words, no DOM), panel.js (the pair's strips),
// axis.js (the dimension axis), table.js (every key's product).
import { visibility } from "../../lib/maps.js";
import { attentionFacts } from "../../lib/facts.js";
import { connectSelection } from "../../lib/selection.js";
import { rotaryNote } from "../../lib/dims.js";
import { h, makeRoot, tokenElement, TokenMarks, wireTokens } from "../../ui/dom.js";
import { select } from "../../ui/controls.js";
import { headCache, queryRowOf, keyOf, missingText } from "./vectors.js";
import { drawPanel } from "./panel.js";
import { drawAxis } from "./axis.js";
import { drawTable } from "./table.js";

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "neuron");
  const sel = await connectSelection(model, host, { signal });
  const facts = attentionFacts(model);
  const { tokens, nKey, nQuery, offset, layerIds: layers, headIds: heads } = facts;
  const visible = visibility(facts);
  const getHead = headCache(model);
  const marks = new TokenMarks();
  // The key table's labels are rebuilt on every draw: their marks are kept apart and cleared then.
  const tableMarks = new TokenMarks();

  const layerSel = select("layer", layers.map((l) => [l, String(l)]), model.get("layer_shown"),
    (v) => sel.set({ layer: Number(v), head: model.get("head_shown") }, { immediate: true }), signal);
  const headSel = select("head", heads.map((x) => [x, String(x)]), model.get("head_shown"),
    (v) => sel.set({ layer: model.get("layer_shown"), head: Number(v) }, { immediate: true }), signal);
  ui.controls.append(layerSel.node, headSel.node);

  const tokenStrip = h("div", { class: "aw-strip" });
  tokens.forEach((_, i) => { const t = tokenElement(tokens, i); tokenStrip.append(t); marks.add(i, t); });
  const panel = h("div", { class: "aw-neuron-pair", style: "margin:8px 0" });
  const table = h("div", { class: "aw-neuron-keys", style: "position:relative" });
  const axis = h("div", { class: "aw-neuron-axis", style: "position:relative;margin:2px 0 6px;font-size:10px;color:var(--aw-muted,#57606a)" });
  ui.body.append(tokenStrip, panel, axis, table);
  const rotary = model.get("_rotary") || null;
  wireTokens(tokenStrip, sel, signal);
  wireTokens(table, sel, signal);

  let cur = null;
  const queryIndex = () => queryRowOf(sel.get("pinned_token"), offset, nQuery);
  function drawPair() {
    if (!cur) { drawPanel(panel, cur, 0, 0, { tokens, offset, nKey, visible }); return; }
    const i = queryIndex();
    drawPanel(panel, cur, i, keyOf(sel.get("hovered_token"), cur.w, i, nKey), { tokens, offset, nKey, visible });
  }

  function draw() {
    const key = `${model.get("layer_shown")}/${model.get("head_shown")}`;
    layerSel.input.value = String(model.get("layer_shown"));
    headSel.input.value = String(model.get("head_shown"));
    cur = getHead(key);
    ui.title.textContent = `Query and key vectors · layer ${model.get("layer_shown")} · head ${model.get("head_shown")}` +
      (cur ? ` (kv head ${cur.facts.kv_head})` : "");
    ui.root.dataset.layer = String(model.get("layer_shown"));
    ui.root.dataset.head = String(model.get("head_shown"));
    ui.status.textContent = cur ? "" : missingText(model.get("layer_shown"), model.get("head_shown"), model.get("_heads"));
    ui.legend.replaceChildren(h("div", { text: "click a token to choose the query, hover one to choose the key; " +
      "blue negative, red positive, full colour at the largest magnitude in each strip; rows below: every key's q × k, bars: attention weight" }));
    const note = cur ? rotaryNote(cur.d, rotary) : "";
    if (note) ui.legend.append(h("div", { class: "aw-neuron-rotary-note", text: note }));
    drawAxis(axis, cur ? cur.d : null, rotary);
    drawTable(table, cur, queryIndex(), { tokens, nKey, visible, rotary }, { ui, axis, marks: tableMarks, sel, signal });
    drawPair();
  }

  sel.on(["hovered_token"], () => { marks.hover(sel.get("hovered_token")); tableMarks.hover(sel.get("hovered_token")); drawPair(); });
  sel.on(["pinned_token"], () => marks.pin(sel.get("pinned_token")));
  sel.on(["pinned_token"], draw);
  for (const name of ["_heads", "layer_shown", "head_shown"]) model.on(`change:${name}`, draw);
  draw();
  return () => el.replaceChildren();
}
