// TokenText: the text itself, each token tinted by the attention the focus token gives (its query
// row) or receives (its key column) in the selected layer and head. The focus is the hovered
// token, else the pinned one, else the last query token.
import { colorAt } from "../lib/colormap.js";
import { displayMap, visibility } from "../lib/maps.js";
import { decode } from "../lib/decode.js";
import { connectSelection } from "../lib/selection.js";
import { mapKey, missingMapText } from "../lib/store.js";
import { connectMeasured, MEASURE_OPTIONS, MEASURE_HELP, NORMS_NOTE } from "../lib/measure.js";
import {
  h, makeRoot, tokenElement, TokenMarks, select, setTrait, scaleControls, viewScale, drawLegend, hideNotes, showTip, hideTip,
  exactToken, wireTokens, theme, whenSized,
  onThemeChange,
} from "./common.js";

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "tokentext");
  await whenSized(ui.root);
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  const maps = await connectMeasured(model, host, { signal });
  const getMap = (key) => maps.get(key);
  const marks = new TokenMarks();

  // Gives / receives toggle, bound to the `direction` trait.
  const gives = h("button", { class: "aw-btn aw-dir-gives", text: "gives", title: "tint each token by how much the focus token attends to it" });
  const receives = h("button", { class: "aw-btn aw-dir-receives", text: "receives", title: "tint each token by how much it attends to the focus token" });
  gives.addEventListener("click", () => setTrait(model, "direction", "gives"), { signal });
  receives.addEventListener("click", () => setTrait(model, "direction", "receives"), { signal });
  ui.controls.append(h("label", {}, "focus token", gives, receives));
  const measureSel = maps.hasNorms ? select("measure", MEASURE_OPTIONS, maps.measure(), (v) => setTrait(model, "measure", v), signal) : null;
  if (measureSel) {
    measureSel.node.title = MEASURE_HELP;
    measureSel.node.classList.add("aw-measure");
    ui.controls.append(measureSel.node);
  }
  const syncScale = scaleControls(model, ui.controls, signal, { hideSpecial: false });

  const text = h("div", { class: "aw-text" });
  const gaps = model.get("_gaps") ?? [];
  for (let i = 0; i < nKey; i++) {
    if (gaps[i]) text.append(" "); // a space the text had and the token strings do not show (WordPiece)
    const t = tokenElement(tokens, i, "span");
    t.removeAttribute("title");
    text.append(t);
    marks.add(i, t);
  }
  ui.body.append(text);
  wireTokens(text, sel, signal);

  let values = null, weights = null, focus = null, scale = null, drawnKey = null;

  function focusToken() {
    const hov = sel.get("hovered_token"), pin = sel.get("pinned_token");
    if (hov !== null && hov !== undefined) return hov;
    if (pin !== null && pin !== undefined) return pin;
    return nKey - 1;
  }

  // The map for the selection, with hiding applied; recomputed only when it changes.
  function prepare() {
    syncScale();
    const key = mapKey(sel.get("layer"), sel.get("head"), sel.get("fusion"));
    const raw = getMap(key);
    ui.status.textContent = raw ? "" : missingMapText(maps.info(), key);
    values = raw ? displayMap(raw, nQuery, nKey, { hide: model.get("hide"), visible }) : null;
    drawnKey = key;
    tint();
  }

  function tint() {
    const dir = model.get("direction");
    gives.setAttribute("aria-pressed", String(dir === "gives"));
    receives.setAttribute("aria-pressed", String(dir === "receives"));
    focus = focusToken();
    const layer = sel.get("layer"), head = sel.get("head");
    ui.root.dataset.layer = String(layer);
    ui.root.dataset.head = head === null ? sel.get("fusion") : String(head);
    ui.root.dataset.focus = String(focus);
    ui.root.dataset.direction = dir;
    ui.root.dataset.measure = maps.measure();
    if (measureSel) measureSel.input.value = maps.measure();
    ui.title.textContent = `${maps.measure() === "norms" ? "Text (value-weighted norms)" : "Text"} · layer ${layer} · ${head === null ? `${sel.get("fusion")} of heads` : `head ${head}`} · ` +
      (dir === "gives" ? `what ${focus} ${exactToken(tokens[focus])} attends to` : `what attends to ${focus} ${exactToken(tokens[focus])}`);
    weights = new Float32Array(nKey);
    if (values) {
      if (dir === "gives") {
        const qi = focus - offset;
        if (qi >= 0) for (let j = 0; j < nKey; j++) weights[j] = values[qi * nKey + j];
      } else {
        for (let q = 0; q < nQuery; q++) weights[q + offset] = values[q * nKey + focus];
      }
    }
    let vmax = 0;
    for (const w of weights) if (w > vmax) vmax = w;
    scale = viewScale(model, vmax || 1, weights);
    const ink = theme(ui.root);
    const cmap = model.get("colormap"), hide = model.get("hide");
    for (let j = 0; j < nKey; j++) {
      const node = marks.byIndex.get(j)?.[0];
      if (!node) continue;
      const w = weights[j], t = scale(w);
      // Each token's tint is written only when it changes: a hover moves the focus, and every
      // write restyles its token.
      let bg = "", fg = "";
      if (t > 0 && !hide.includes(j)) {
        // The map's colour at the weight, blended over the page: strong weights near opaque.
        const a = 0.15 + 0.8 * t, c = colorAt(cmap, t);
        const mix = c.map((v, k) => a * v + (1 - a) * ink.bgRGB[k]);
        bg = `rgba(${c[0]},${c[1]},${c[2]},${a.toFixed(3)})`;
        fg = mix[0] * 0.299 + mix[1] * 0.587 + mix[2] * 0.114 > 140 ? "#000" : "#fff";
      }
      const hidden = hide.includes(j), weight = w.toPrecision(3);
      const state = `${bg}|${fg}|${hidden}|${j === focus}|${weight}`;
      if (node._awTint === state) continue;
      node._awTint = state;
      node.classList.toggle("aw-hidden-tok", hidden);
      node.classList.toggle("aw-focus", j === focus);
      node.style.background = bg;
      node.style.color = fg;
      node.dataset.weight = weight;
    }
    const notes = hideNotes(tokens, hide);
    notes.push(dir === "gives"
      ? "tint: how much the focus token (hovered, else pinned, else the last) attends to each token"
      : "tint: how much each token attends to the focus token (hovered, else pinned, else the last)");
    if (maps.hasNorms) notes.unshift(maps.measure() === "norms" ? NORMS_NOTE : "attention weights");
    if (dir === "gives" && focus < offset) notes.push(`token ${focus} is not a query of this attention`);
    drawLegend(ui.legend, scale, cmap, notes, 140);
  }

  text.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest?.("[data-token-index]");
    if (!t || !weights) { hideTip(ui.tip); return; }
    const j = Number(t.dataset.tokenIndex);
    // The hovered token is the focus, so its own tint says what it gives or receives; name the pinned one too.
    const pin = sel.get("pinned_token");
    let tip = `${j} ${exactToken(tokens[j])}`;
    if (pin !== null && pin !== undefined && values && pin !== j) {
      const w = model.get("direction") === "gives" ? (pin - offset >= 0 ? values[(pin - offset) * nKey + j] : NaN)
        : (j - offset >= 0 ? values[(j - offset) * nKey + pin] : NaN);
      if (Number.isFinite(w)) tip += `\n${model.get("direction") === "gives" ? `pinned ${pin} → ${j}` : `${j} → pinned ${pin}`}: ${w.toPrecision(3)}`;
    }
    tip += `\nclick to pin${model.get("direction") === "gives" ? "; the text shows what it attends to" : ""}`;
    showTip(ui.tip, ui.root, tip, ev);
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
  onThemeChange(tint, signal);
  prepare();
  onHover();
  return () => el.replaceChildren();
}
