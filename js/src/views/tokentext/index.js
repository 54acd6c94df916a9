// TokenText: the text itself, each token tinted by the attention the focus token gives (its query
// row) or receives (its key column) in the selected layer and head. The focus is the hovered
// token, else the pinned one, else the last query token. The parts beside this file: weights.js
// (the weights, tints and words, no DOM), tints.js (the canvas of tints under the text),
// direction.js (the gives / receives toggle).
import { displayMap, visibility } from "../../lib/maps.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { tokenGaps } from "../../lib/spacing.js";
import { attentionFacts } from "../../lib/facts.js";
import { connectSelection } from "../../lib/selection.js";
import { mapKey, missingMapText } from "../../lib/store.js";
import { connectMeasured, MEASURE_OPTIONS, MEASURE_HELP, NORMS_NOTE } from "../../lib/measure.js";
import { h, makeRoot, tokenElement, TokenMarks, wireTokens, whenSized } from "../../ui/dom.js";
import { select, setTrait, scaleControls, viewControls, viewScale } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";
import { focusOf, focusWeights, titleText, tipText } from "./weights.js";
import { createTints } from "./tints.js";
import { directionToggle } from "./direction.js";

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "tokentext");
  const ctl = viewControls(ui, { embedded, menu, signal });
  await whenSized(ui.root);
  const sel = await connectSelection(model, host, { signal });
  const facts = attentionFacts(model);
  const { tokens, nKey, nQuery, offset } = facts;
  const visible = visibility(facts);
  const maps = await connectMeasured(model, host, { signal });
  // Beside a view that switches to norms, the title says that the tints are weights.
  const measureName = maps.hasNorms ? "" : model.get("_measure_name") ?? "";
  const marks = new TokenMarks();

  const showDirection = directionToggle(model, ui.controls, signal);
  const measureSel = maps.hasNorms ? select("measure", MEASURE_OPTIONS, maps.measure(), (v) => setTrait(model, "measure", v), signal) : null;
  if (measureSel) {
    measureSel.node.title = MEASURE_HELP;
    measureSel.node.classList.add("aw-measure");
    ctl.shared.append(measureSel.node);
  }
  const syncScale = scaleControls(model, ctl.options, signal, { hideSpecial: false });

  const text = h("div", { class: "aw-text" });
  // The kernel's gaps (from offsets), or spaces inferred when the tokens carry none (a decoder's
  // target tokens): lib/spacing.js.
  const gaps = tokenGaps(tokens, model.get("_gaps") ?? [], facts.special);
  for (let i = 0; i < nKey; i++) {
    if (gaps[i]) text.append(" "); // a space the text had and the token strings do not show (WordPiece)
    const t = tokenElement(tokens, i, "span");
    t.removeAttribute("title");
    text.append(t);
    marks.add(i, t);
  }
  ui.body.append(text);
  wireTokens(text, sel, signal);
  const spans = Array.from({ length: nKey }, (_, j) => marks.byIndex.get(j)[0]);
  const tints = createTints(text, spans, signal);

  let values = null, weights = null, focus = null;
  // The page's colours, read when the view draws and when the theme changes (not on a hover:
  // reading them resolves the page's styles).
  let ink = theme(ui.root);
  const focusToken = () => focusOf(sel.get("hovered_token"), sel.get("pinned_token"), nKey);

  // The map for the selection, with hiding applied; recomputed only when it changes.
  function prepare() {
    syncScale();
    ink = theme(ui.root);
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    const raw = maps.get(key);
    ui.status.textContent = raw ? "" : missingMapText(maps.info(), key);
    values = raw ? displayMap(raw, nQuery, nKey, { hide: model.get("hide"), visible }) : null;
    tint();
  }

  function tint() {
    const dir = model.get("direction");
    showDirection(dir);
    focus = focusToken();
    const layer = sel.get("layer"), head = sel.get("head");
    Object.assign(ui.root.dataset, { layer: String(layer), head: head === null ? sel.get("fusion") : String(head), focus: String(focus), direction: dir, measure: maps.measure() });
    if (measureSel) measureSel.input.value = maps.measure();
    ui.title.textContent = titleText({ norms: maps.measure() === "norms", measureName, layer, head, fusion: sel.get("fusion"), dir, focus, tokens });
    weights = focusWeights(values, dir, focus, facts);
    let vmax = 0;
    for (const w of weights) if (w > vmax) vmax = w;
    const scale = viewScale(model, vmax || 1, weights);
    const cmap = model.get("colormap"), hide = model.get("hide");
    // Tints (and each token's data-weight) are drawn for the tokens in the box's view, and for
    // the others as they scroll into it.
    tints.draw({ weights, scale, hidden: new Set(hide), focus, cmap, ink });
    const notes = hideNotes(tokens, hide);
    notes.push(dir === "gives"
      ? "tint: how much the focus token (hovered, else pinned, else the last) attends to each token"
      : "tint: how much each token attends to the focus token (hovered, else pinned, else the last)");
    if (maps.hasNorms) notes.unshift(maps.measure() === "norms" ? NORMS_NOTE : "attention weights");
    if (dir === "gives" && focus < offset) notes.push(`token ${focus} is not a query of this attention`);
    notes.push(anchorNote(scale, nKey));
    drawLegend(ui.legend, scale, cmap, notes, 140, ink, uniformShare(nKey));
  }

  text.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest?.("[data-token-index]");
    if (!t || !weights) { hideTip(ui.tip); return; }
    showTip(ui.tip, ui.root, tipText(Number(t.dataset.tokenIndex), tokens, model.get("direction"), sel.get("pinned_token"), values, facts), ev);
  }, { signal });
  text.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });

  function onHover() {
    marks.hover(sel.get("hovered_token"));
    marks.pin(sel.get("pinned_token"));
    if (focusToken() !== focus) tint();
  }
  sel.on(["layer", "head", "fusion"], prepare);
  sel.on(["hovered_token", "pinned_token"], onHover);
  maps.on(prepare);
  for (const name of ["scale", "gamma", "colormap", "hide"]) model.on(`change:${name}`, prepare);
  model.on("change:direction", tint);
  onThemeChange(() => { ink = theme(ui.root); tints.forget(); tint(); }, signal);
  prepare();
  onHover();
  return () => el.replaceChildren();
}
