// NeuronView: for the query (pinned token) and key (hovered token) of one head, the query vector,
// the key vector and their element-wise product (the terms of the score), and every key's product,
// on a dimension axis that marks the rotary pairs of rotary models (lib/dims.js).
import { decode, slice0 } from "../../lib/decode.js";
import { cssColor } from "../../lib/colormap.js";
import { divergingColor, signedPosition } from "../../lib/diverging.js";
import { visibility } from "../../lib/maps.js";
import { connectSelection } from "../../lib/selection.js";
import { dimTicks, rotaryNote, rotaryPartner } from "../../lib/dims.js";
import { h, makeRoot, tokenElement, TokenMarks, exactToken, wireTokens } from "../../ui/dom.js";
import { select } from "../../ui/controls.js";
import { showTip, hideTip } from "../../ui/tips.js";

const CELL = 7, ROW = 14, LABEL_W = 90;

function headCache(model) {
  let payload = null, q = null, k = null, w = null, index = null;
  return (key) => {
    const p = model.get("_heads");
    if (p !== payload) {
      payload = p;
      q = p?.q ? decode(p.q) : null; k = p?.k ? decode(p.k) : null; w = p?.w ? decode(p.w) : null;
      index = new Map((p?.keys ?? []).map((x, i) => [x, i]));
    }
    if (!q || !index.has(key)) return null;
    const i = index.get(key);
    return { q: slice0(q, i), k: slice0(k, i), w: slice0(w, i), d: q.shape[2], facts: payload.facts[i] };
  };
}

/** Paint `values` (length d) as one strip of cells on a diverging scale with full colour at vmax. */
function strip(values, vmax) {
  const c = h("canvas", { style: `display:block;width:${values.length * CELL}px;height:${ROW}px` });
  c.width = values.length; c.height = 1;
  const ctx = c.getContext("2d");
  const img = ctx.createImageData(values.length, 1);
  values.forEach((v, x) => {
    const rgb = divergingColor(signedPosition(v, vmax));
    img.data.set([rgb[0], rgb[1], rgb[2], 255], x * 4);
  });
  ctx.putImageData(img, 0, 0);
  c.style.imageRendering = "pixelated";
  return c;
}

const absMax = (a) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "neuron");
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  const maskPayload = model.get("_mask");
  const visible = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  const layers = model.get("_layer_ids"), heads = model.get("_head_ids");
  const getHead = headCache(model);
  const marks = new TokenMarks();

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
  const X0 = LABEL_W + 6; // where every strip, the axis and the key table start
  wireTokens(tokenStrip, sel, signal);
  wireTokens(table, sel, signal);

  let cur = null;
  const queryIndex = () => {
    const p = sel.get("pinned_token");
    return p !== null && p !== undefined && p >= offset ? p - offset : nQuery - 1;
  };
  const keyIndex = (i) => {
    const hov = sel.get("hovered_token");
    if (hov !== null && hov !== undefined) return hov;
    let best = 0;
    for (let j = 0; j < nKey; j++) if (cur.w[i * nKey + j] > cur.w[i * nKey + best]) best = j;
    return best;
  };

  function drawPanel() {
    if (!cur) { panel.replaceChildren(); return; }
    const i = queryIndex(), j = keyIndex(i), d = cur.d;
    const q = cur.q.subarray(i * d, (i + 1) * d), k = cur.k.subarray(j * d, (j + 1) * d);
    const prod = q.map((v, x) => v * k[x]);
    const dot = prod.reduce((s, v) => s + v, 0);
    const vecMax = Math.max(absMax(q), absMax(k)), prodMax = absMax(prod);
    const row = (label, values, vmax, cls) => h("div", { class: cls, style: "display:flex;align-items:center;gap:6px;margin:1px 0" },
      h("span", { text: label, style: `width:${LABEL_W}px;text-align:right;color:var(--aw-muted,#57606a);white-space:pre;overflow:hidden;text-overflow:ellipsis` }), strip(values, vmax));
    const vis = visible(i, j);
    const weight = vis ? cur.w[i * nKey + j] : 0;
    const f = cur.facts;
    const summary = h("div", { class: "aw-neuron-score", style: "margin-top:4px" });
    summary.textContent = `query ${i + offset} ${exactToken(tokens[i + offset])} · key ${j} ${exactToken(tokens[j])}: ` +
      (vis ? `q·k = ${dot.toPrecision(4)}, × ${f.scaling.toPrecision(3)} = score ${(dot * f.scaling).toPrecision(4)}` +
        `${f.softcap ? ` (soft-capped at ${f.softcap})` : ""}; attention weight ${weight.toPrecision(3)}` : "this key is masked for this query") +
      (f.exact ? "" : " (the model adds a bias or cap to this score)");
    summary.dataset.query = String(i + offset); summary.dataset.key = String(j);
    summary.dataset.dot = String(dot); summary.dataset.weight = String(weight);
    panel.replaceChildren(
      row(`q ${tokens[i + offset]}`.slice(0, 14), q, vecMax, "aw-neuron-q"),
      row(`k ${tokens[j]}`.slice(0, 14), k, vecMax, "aw-neuron-k"),
      row("q × k", prod, prodMax, "aw-neuron-qk"),
      summary);
  }

  /** Ticks every few dimensions under the strips and, for rotary models, which dimensions turn together. */
  function drawAxis() {
    axis.replaceChildren();
    if (!cur) return;
    const d = cur.d, { ticks } = dimTicks(d, CELL);
    const line = "var(--aw-border,#d0d7de)";
    axis.dataset.dims = String(d);
    axis.append(h("span", { text: "dimension", style: `position:absolute;left:0;top:3px;width:${LABEL_W}px;text-align:right` }),
      h("div", { style: `position:absolute;left:${X0}px;top:0;width:${d * CELL}px;border-top:1px solid ${line}` }));
    for (const x of ticks) {
      axis.append(h("div", { class: "aw-neuron-tick", "data-dim": String(x), text: String(x),
        style: `position:absolute;left:${X0 + x * CELL}px;top:0;padding:3px 0 0 2px;border-left:1px solid ${line};line-height:10px;height:10px` }));
    }
    let height = 16;
    const partner0 = rotaryPartner(0, d, rotary);
    if (partner0 !== null) {
      // rotate_half: the two halves of the head, dimension i of the first turning with i + d/2.
      const half = d / 2;
      const band = h("div", { class: "aw-neuron-rotary", "data-style": rotary, "data-half": String(half),
        style: `position:absolute;left:${X0}px;top:${height}px;width:${d * CELL}px;height:14px;display:flex` });
      const seg = (text) => h("div", { text, style: `flex:1;border:1px solid ${line};border-top:none;text-align:center;line-height:12px;overflow:hidden;white-space:nowrap` });
      band.append(seg(rotary === "half" ? `0–${half - 1}: i` : "pairs (2i, 2i + 1)"), ...(rotary === "half" ? [seg(`${half}–${d - 1}: i + ${half}, turns with i`)] : []));
      axis.append(band, h("span", { text: "rotary", style: `position:absolute;left:0;top:${height + 1}px;width:${LABEL_W}px;text-align:right` }));
      height += 16;
    }
    axis.style.height = `${height}px`;
  }

  /** Mark dimension `x` on the axis, and the dimension that turns with it. */
  function markDims(x) {
    for (const m of axis.querySelectorAll(".aw-neuron-dim-mark")) m.remove();
    if (x === null || !cur) return;
    const partner = rotaryPartner(x, cur.d, rotary);
    for (const [dim, cls] of [[x, "aw-neuron-dim-mark"], [partner, "aw-neuron-dim-mark aw-neuron-dim-partner"]]) {
      if (dim === null) continue;
      axis.append(h("div", { class: cls, "data-dim": String(dim), title: dim === x ? `dimension ${dim}` : `dimension ${dim}, which turns with ${x}`,
        style: `position:absolute;left:${X0 + dim * CELL}px;top:-1px;width:${CELL}px;height:3px;background:var(--aw-accent,#0969da)` }));
    }
  }

  function drawTable() {
    table.replaceChildren();
    if (!cur) return;
    const i = queryIndex(), d = cur.d;
    const q = cur.q.subarray(i * d, (i + 1) * d);
    const canvas = h("canvas", { style: `position:absolute;left:${LABEL_W + 6}px;top:0;width:${d * CELL}px;height:${nKey * ROW}px;image-rendering:pixelated;cursor:crosshair` });
    canvas.width = d; canvas.height = nKey;
    const ctx = canvas.getContext("2d");
    const img = ctx.createImageData(d, nKey);
    let m = 0;
    for (let j = 0; j < nKey; j++) if (visible(i, j)) for (let x = 0; x < d; x++) m = Math.max(m, Math.abs(q[x] * cur.k[j * d + x]));
    for (let j = 0; j < nKey; j++) for (let x = 0; x < d; x++) {
      const rgb = visible(i, j) ? divergingColor(signedPosition(q[x] * cur.k[j * d + x], m)) : [234, 238, 242];
      img.data.set([rgb[0], rgb[1], rgb[2], 255], (j * d + x) * 4);
    }
    ctx.putImageData(img, 0, 0);
    const labels = h("div", { style: `position:relative;width:${LABEL_W}px;height:${nKey * ROW}px` });
    const bars = h("div", { style: `position:absolute;left:${LABEL_W + 12 + d * CELL}px;top:0` });
    for (let j = 0; j < nKey; j++) {
      const t = tokenElement(tokens, j);
      t.style.cssText = `position:absolute;right:2px;top:${j * ROW}px;line-height:${ROW}px;font-size:11px;max-width:${LABEL_W - 4}px;overflow:hidden;text-overflow:ellipsis`;
      labels.append(t); marks.add(j, t);
      const w = visible(i, j) ? cur.w[i * nKey + j] : 0;
      bars.append(h("div", { style: `position:absolute;top:${j * ROW + 3}px;height:${ROW - 6}px;width:${Math.max(0, w * 80).toFixed(1)}px;background:${cssColor(divergingColor(0.7))}`, title: `weight ${w.toPrecision(3)}` }));
    }
    table.style.height = `${nKey * ROW}px`;
    table.append(labels, canvas, bars);
    canvas.addEventListener("mousemove", (ev) => {
      const r = canvas.getBoundingClientRect();
      const j = Math.floor(((ev.clientY - r.top) / r.height) * nKey), x = Math.floor(((ev.clientX - r.left) / r.width) * d);
      if (j < 0 || j >= nKey || x < 0 || x >= d) { hideTip(ui.tip); markDims(null); return; }
      const partner = rotaryPartner(x, d, rotary);
      showTip(ui.tip, ui.root, `key ${j} ${exactToken(tokens[j])}, dimension ${x}` + (partner === null ? "" : ` (turns with ${partner})`) +
        `\nq ${q[x].toPrecision(3)} × k ${cur.k[j * d + x].toPrecision(3)} = ${(q[x] * cur.k[j * d + x]).toPrecision(3)}`, ev);
      markDims(x);
      sel.set({ hovered_token: j });
    }, { signal });
    canvas.addEventListener("mouseleave", () => { hideTip(ui.tip); markDims(null); sel.set({ hovered_token: null }); }, { signal });
    marks.hovered = null; marks.pinned = null;
    marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token"));
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
    ui.status.textContent = cur ? "" : `The vectors of layer ${model.get("layer_shown")}, head ${model.get("head_shown")} are not in this view's data ` +
      `(it holds ${model.get("_heads")?.keys?.length ?? 0} of ${model.get("_heads")?.total ?? "?"} heads); with a running kernel they arrive in a moment, ` +
      "an exported page keeps the heads it was saved with (raise max_bytes to keep more).";
    ui.legend.replaceChildren(h("div", { text: "click a token to choose the query, hover one to choose the key; " +
      "blue negative, red positive, full colour at the largest magnitude in each strip; rows below: every key's q × k, bars: attention weight" }));
    const note = cur ? rotaryNote(cur.d, rotary) : "";
    if (note) ui.legend.append(h("div", { class: "aw-neuron-rotary-note", text: note }));
    drawAxis();
    drawTable();
    drawPanel();
  }

  sel.on(["hovered_token"], () => { marks.hover(sel.get("hovered_token")); drawPanel(); });
  sel.on(["pinned_token"], draw);
  for (const name of ["_heads", "layer_shown", "head_shown"]) model.on(`change:${name}`, draw);
  draw();
  return () => el.replaceChildren();
}
