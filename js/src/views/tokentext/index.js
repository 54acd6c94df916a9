// TokenText: the text itself, each token tinted by the attention the focus token gives (its query
// row) or receives (its key column) in the selected layer and head. The focus is the hovered
// token, else the pinned one, else the last query token.
import { colorAt } from "../../lib/colormap.js";
import { displayMap, visibility } from "../../lib/maps.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { tokenGaps } from "../../lib/spacing.js";
import { decode } from "../../lib/decode.js";
import { connectSelection } from "../../lib/selection.js";
import { mapKey, missingMapText } from "../../lib/store.js";
import { connectMeasured, MEASURE_OPTIONS, MEASURE_HELP, NORMS_NOTE } from "../../lib/measure.js";
import { h, makeRoot, tokenElement, TokenMarks, exactToken, wireTokens, whenSized } from "../../ui/dom.js";
import { select, setTrait, scaleControls, viewControls, viewScale } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { theme, onThemeChange } from "../../ui/theme.js";

export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "tokentext");
  const ctl = viewControls(ui, { embedded, menu, signal });
  await whenSized(ui.root);
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  const maps = await connectMeasured(model, host, { signal });
  // Beside a view that switches to norms, the title says that the tints are weights.
  const measureName = maps.hasNorms ? "" : model.get("_measure_name") ?? "";
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
    ctl.shared.append(measureSel.node);
  }
  const syncScale = scaleControls(model, ctl.options, signal, { hideSpecial: false });

  const text = h("div", { class: "aw-text" });
  // The kernel's gaps (from offsets), or spaces inferred when the tokens carry none (a decoder's
  // target tokens): lib/spacing.js.
  const gaps = tokenGaps(tokens, model.get("_gaps") ?? [], model.get("_special") ?? []);
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

  let values = null, weights = null, focus = null, scale = null, drawnKey = null, hidden = new Set();
  // The page's colours, read when the view draws and when the theme changes (not on a hover:
  // reading them resolves the page's styles).
  let ink = theme(ui.root);

  // Tints are painted on one canvas under the text, the size of the box and moved with its
  // scroll: a hover repaints that canvas and restyles only the tokens whose text colour, focus or
  // hiding changes, not every token. Each token's boxes (one per line it spans) are read when
  // the box is laid out anew (a resize), never on a hover.
  const under = h("canvas", { class: "aw-tints", style: "position:absolute;left:0;top:0;z-index:-1;pointer-events:none" });
  text.prepend(under);
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const fills = new Array(nKey).fill("");
  let rects = null, box = null; // rects: per token [x, y, w, h, ...] in the text's content box

  // One token's tint from the current weights: its fill for the canvas, and its weight (as
  // data-weight), text colour, focus and hiding, written only when they change.
  function paintToken(j) {
    const node = spans[j];
    const t = scale(weights[j]), off = hidden.has(j);
    let bg = "", fg = "";
    if (t > 0 && !off) {
      // The map's colour at the weight, blended over the page: strong weights near opaque.
      const a = 0.15 + 0.8 * t, c = colorAt(model.get("colormap"), t);
      const mix = c.map((v, k) => a * v + (1 - a) * ink.bgRGB[k]);
      bg = `rgba(${c[0]},${c[1]},${c[2]},${a.toFixed(3)})`;
      fg = mix[0] * 0.299 + mix[1] * 0.587 + mix[2] * 0.114 > 140 ? "#000" : "#fff";
    }
    fills[j] = bg;
    const weight = weights[j].toPrecision(3);
    if (node.dataset.weight !== weight) node.dataset.weight = weight;
    const state = `${fg}|${off}|${j === focus}`;
    if (node._awTint === state) return;
    node._awTint = state;
    node.classList.toggle("aw-hidden-tok", off);
    node.classList.toggle("aw-focus", j === focus);
    node.style.color = fg;
  }

  // Tokens with a box in the text's view (all of them until the first layout).
  function inView() {
    if (!rects || !box || !box.height) return [0, nKey];
    let from = 0;
    while (from < nKey && lastBottom(from) < box.top) from++;
    let to = from;
    while (to < nKey && rects[to].length && rects[to][1] <= box.top + box.height) to++;
    // Tokens that draw no box (none) do not end the run.
    while (to < nKey && !rects[to].length) to++;
    return [from, to];
  }
  const lastBottom = (j) => { const r = rects[j]; return r.length ? r[r.length - 3] + r[r.length - 1] : -Infinity; };

  function measure() {
    box = { top: text.scrollTop, width: text.clientWidth, height: text.clientHeight };
    const o = text.getBoundingClientRect();
    const ox = o.left + text.clientLeft - text.scrollLeft, oy = o.top + text.clientTop - text.scrollTop;
    rects = spans.map((node) => {
      const out = [];
      for (const r of node.getClientRects()) out.push(r.left - ox, r.top - oy, r.width, r.height);
      return out;
    });
    const w = Math.max(1, Math.round(box.width * dpr)), hh = Math.max(1, Math.round(box.height * dpr));
    if (under.width !== w || under.height !== hh) {
      under.width = w; under.height = hh;
      under.style.width = `${box.width}px`; under.style.height = `${box.height}px`;
    }
  }

  // The tints of the tokens in view on the canvas, which sits where the box is scrolled to.
  function drawTints() {
    const [from, to] = inView();
    if (!rects) { for (let j = from; j < to; j++) paintToken(j); return; }
    const ctx = under.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, under.width, under.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, -box.top * dpr);
    under.style.top = `${box.top}px`;
    for (let j = from; j < to; j++) {
      paintToken(j);
      if (!fills[j]) continue;
      ctx.fillStyle = fills[j];
      const r = rects[j];
      for (let k = 0; k < r.length; k += 4) {
        ctx.beginPath();
        if (ctx.roundRect) ctx.roundRect(r[k], r[k + 1], r[k + 2], r[k + 3], 2); else ctx.rect(r[k], r[k + 1], r[k + 2], r[k + 3]);
        ctx.fill();
      }
    }
  }
  text.addEventListener("scroll", () => { if (box) { box.top = text.scrollTop; if (weights && scale) drawTints(); } }, { signal, passive: true });
  if (typeof ResizeObserver !== "undefined") {
    const ro = new ResizeObserver(() => { measure(); if (weights && scale) drawTints(); });
    ro.observe(text);
    signal.addEventListener("abort", () => ro.disconnect());
  }
  // Web fonts arriving late wrap the text anew inside the same box.
  document.fonts?.ready?.then(() => { if (!signal.aborted && rects) { measure(); if (weights && scale) drawTints(); } });

  function focusToken() {
    const hov = sel.get("hovered_token"), pin = sel.get("pinned_token");
    if (hov !== null && hov !== undefined) return hov;
    if (pin !== null && pin !== undefined) return pin;
    return nKey - 1;
  }

  // The map for the selection, with hiding applied; recomputed only when it changes.
  function prepare() {
    syncScale();
    ink = theme(ui.root);
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
    ui.title.textContent = `${maps.measure() === "norms" ? "Text (value-weighted norms)" : measureName ? "Text (attention weights)" : "Text"} · layer ${layer} · ${head === null ? `${sel.get("fusion")} of heads` : `head ${head}`} · ` +
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
    const cmap = model.get("colormap"), hide = model.get("hide");
    hidden = new Set(hide);
    // Tints (and each token's data-weight) are drawn for the tokens in the box's view, and for
    // the others as they scroll into it.
    drawTints();
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
  onThemeChange(() => { ink = theme(ui.root); for (const n of spans) n._awTint = null; tint(); }, signal);
  prepare();
  onHover();
  return () => el.replaceChildren();
}
