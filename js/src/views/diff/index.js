// AttentionDiff: b - a for the selected layer/head on a diverging colour map over aligned positions
// (lib/align.js: a position whose tokens differ is labelled with both, positions with no partner are
// named), and a grid of every head pair coloured by their total variation distance. Hover and pin go
// through the shared selection, in a's token positions.
import { decode, slice0 } from "../../lib/decode.js";
import { colorAt, cssColor, fmt } from "../../lib/colormap.js";
import { difference, divergingColor, maxAbs, signedPosition } from "../../lib/diverging.js";
import { visibility } from "../../lib/maps.js";
import { connectSelection } from "../../lib/selection.js";
import { alignedAxes, pairLabel, unpairedLine } from "../../lib/align.js";
import { h, makeRoot, TokenMarks, exactToken, displayToken, wireTokens, displayName } from "../../ui/dom.js";
import { select, setTrait } from "../../ui/controls.js";
import { showTip, hideTip } from "../../ui/tips.js";

const LABEL_W = 90, TOP_H = 70, MIN_LABEL_PX = 10;

function pairCache(model) {
  let payload = null, decoded = null, index = null;
  return (key) => {
    const p = model.get("_maps");
    if (p !== payload) {
      payload = p;
      decoded = p && p.shape ? decode(p) : null;
      index = new Map((p?.keys ?? []).map((k, i) => [k, i]));
    }
    if (!decoded || !index.has(key)) return null;
    const both = slice0(decoded, index.get(key));
    const n = both.length / 2;
    return { a: both.subarray(0, n), b: both.subarray(n) };
  };
}

export default async function render({ model, el, host, signal }) {
  const ui = makeRoot(el, "diff");
  const sel = await connectSelection(model, host, { signal });
  const tokens = model.get("_tokens");
  const nKey = tokens.length, nQuery = model.get("_n_query"), offset = nKey - nQuery;
  const maskPayload = model.get("_mask");
  const visibleA = visibility({ nQuery, nKey, causal: model.get("_causal"), mask: maskPayload ? decode(maskPayload).values : null });
  // The maps hold aligned positions only: column c is a's token colsA[c] (b's colsB[c]), row r is
  // the query row of a's token ax.rowToken(r).
  const bTokens = model.get("_b_tokens")?.length ? model.get("_b_tokens") : tokens;
  const ax = alignedAxes(model.get("_align"), nKey, nQuery);
  const { colsA, colsB } = ax;
  const nCol = colsA.length, nRow = ax.rows.length;
  const visible = (r, c) => visibleA(ax.rowToken(r) - offset, colsA[c]);
  const changed = colsA.filter((p, c) => tokens[p] !== bTokens[colsB[c]]).length;
  const layers = model.get("_layer_ids"), heads = model.get("_head_ids");
  const bLayers = model.get("_b_layer_ids"), bHeads = model.get("_b_head_ids");
  // Names are the caller's text: shown with invisible and direction-changing characters marked.
  const [nameA, nameB] = model.get("_names").map(displayName);
  const summary = decode(model.get("_summary")).values;
  const getPair = pairCache(model);
  const marks = new TokenMarks();

  const layerSel = select("layer", layers.map((l) => [l, String(l)]), sel.get("layer"),
    (v) => sel.set({ layer: Number(v) }, { immediate: true }), signal);
  const headSel = select("head", [...heads.map((x) => [x, String(x)]), ["fused", "fused"]],
    sel.get("head") ?? "fused", (v) => sel.set({ head: v === "fused" ? null : Number(v) }, { immediate: true }), signal);
  const scaleSel = select("scale", [["linear", "linear"], ["power", "power"]], model.get("scale"), (v) => setTrait(model, "scale", v), signal);
  ui.controls.append(layerSel.node, headSel.node, scaleSel.node);

  // Head grid: one cell per (layer, head) pair, coloured by total variation.
  const grid = h("div", { class: "aw-diff-grid", style: `display:grid;grid-template-columns:auto repeat(${heads.length},14px);gap:1px;align-content:start;font-size:10px;color:#57606a` });
  const cells = new Map();
  let tvMax = 0;
  for (const v of summary) tvMax = Math.max(tvMax, v);
  function paintGrid() {
    const cmap = model.get("colormap");
    grid.replaceChildren(h("span"), ...heads.map((x) => h("span", { text: String(x), style: "text-align:center" })));
    cells.clear();
    layers.forEach((l, li) => {
      grid.append(h("span", { text: `L${l}`, style: "padding-right:3px;text-align:right" }));
      heads.forEach((x, hi) => {
        const v = summary[li * heads.length + hi];
        const c = h("div", { class: "aw-cell", "data-layer": String(l), "data-head": String(x), style: `width:14px;height:12px;cursor:pointer;background:${cssColor(colorAt(cmap, tvMax > 0 ? v / tvMax : 0))}` });
        c.title = `layer ${l} head ${x}` + (bLayers[li] !== l || bHeads[hi] !== x ? ` (${nameB}: layer ${bLayers[li]} head ${bHeads[hi]})` : "") +
          `: total variation ${v.toFixed(3)} (0 same rows, 1 disjoint)`;
        c.dataset.tv = v.toFixed(4);
        cells.set(`${l}/${x}`, c);
        grid.append(c);
      });
    });
    markGrid();
  }
  function markGrid() {
    for (const [k, c] of cells) c.style.outline = k === `${sel.get("layer")}/${sel.get("head")}` ? "2px solid #0969da" : "";
  }
  grid.addEventListener("click", (ev) => {
    const c = ev.target.closest?.("[data-layer][data-head]");
    if (c) sel.set({ layer: Number(c.dataset.layer), head: Number(c.dataset.head) }, { immediate: true });
  }, { signal });

  const k = Math.max(3, Math.min(22, Math.floor(560 / Math.max(nCol, 1))));
  const W = k * nCol, Hh = k * nRow;
  const labels = k >= MIN_LABEL_PX;
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const canvas = h("canvas", { style: `position:absolute;left:${labels ? LABEL_W : 0}px;top:${labels ? TOP_H : 0}px;width:${W}px;height:${Hh}px;cursor:crosshair` });
  canvas.width = Math.ceil(W * dpr); canvas.height = Math.ceil(Hh * dpr);
  const topLabels = h("div", { style: `position:absolute;left:${LABEL_W}px;top:0;width:${W}px;height:${TOP_H}px` });
  const leftLabels = h("div", { style: `position:absolute;left:0;top:${TOP_H}px;width:${LABEL_W}px;height:${Hh}px` });
  const mapBox = h("div", { class: "aw-diff-map", style: `position:relative;width:${W + (labels ? LABEL_W : 0)}px;height:${Hh + (labels ? TOP_H : 0)}px` });
  if (labels) mapBox.append(topLabels, leftLabels);
  mapBox.append(canvas);
  // An aligned position's label: its token, or both tokens where a and b differ (text, never HTML).
  const labelOf = (c) => {
    const ta = tokens[colsA[c]], tb = bTokens[colsB[c]];
    return h("span", {
      class: ta === tb ? "aw-tok" : "aw-tok aw-tok-changed", "data-token-index": String(colsA[c]), "data-b-index": String(colsB[c]),
      text: pairLabel(ta, tb, displayToken),
      title: ta === tb && colsA[c] === colsB[c] ? `${colsA[c]}: ${exactToken(ta)}` : `${nameA} ${colsA[c]}: ${exactToken(ta)} · ${nameB} ${colsB[c]}: ${exactToken(tb)}`,
    });
  };
  const strip = h("div", { class: "aw-strip" });
  for (let c = 0; c < nCol; c++) { const t = labelOf(c); strip.append(t); marks.add(colsA[c], t); }
  // What was compared with what: the rule, the changed tokens, and every position with no partner.
  const alignNote = h("div", { class: "aw-diff-align", style: "margin-top:4px;color:#57606a" });
  const rule = ax.method === "positions" ? "position by position" : ax.method === "given" ? "by the pairs given" : `by ${ax.method}`;
  const notes = [];
  if (changed || ax.method !== "positions" || ax.onlyA.length || ax.onlyB.length) {
    notes.push(`${nameA} and ${nameB} compared ${rule}: ${nCol} aligned positions` + (changed ? `, ${changed} with different tokens (labelled ${nameA}→${nameB})` : ""));
  }
  for (const [only, toks, side, other, attr] of [[ax.onlyA, tokens, nameA, nameB, "onlyA"], [ax.onlyB, bTokens, nameB, nameA, "onlyB"]]) {
    const line = unpairedLine(only, toks, side, other, exactToken);
    if (line) notes.push(line);
    alignNote.dataset[attr] = only.join(",");
  }
  alignNote.textContent = notes.join("; ");
  alignNote.hidden = !notes.length;
  if (labels) {
    const font = Math.min(11, k - 1);
    for (let j = 0; j < nCol; j++) {
      const t = labelOf(j);
      t.style.cssText = `position:absolute;left:${(j * k + (k - font - 2) / 2).toFixed(1)}px;bottom:0;writing-mode:vertical-rl;transform:rotate(180deg);font-size:${font}px;line-height:${font + 2}px;max-height:${TOP_H}px;overflow:hidden`;
      topLabels.append(t); marks.add(colsA[j], t);
    }
    for (let i = 0; i < nRow; i++) {
      const t = labelOf(ax.rows[i]);
      t.style.cssText = `position:absolute;right:2px;top:${(i * k + (k - font - 2) / 2).toFixed(1)}px;font-size:${font}px;line-height:${font + 2}px;max-width:${LABEL_W - 4}px;overflow:hidden;text-overflow:ellipsis`;
      leftLabels.append(t); marks.add(ax.rowToken(i), t);
    }
  }
  ui.body.append(h("div", { style: "display:flex;gap:16px;align-items:flex-start" }, grid, mapBox), strip, alignNote);
  wireTokens(mapBox, sel, signal);
  wireTokens(strip, sel, signal);

  let pair = null, diff = null, vmax = 0;
  const base = h("canvas");
  function draw() {
    layerSel.input.value = String(sel.get("layer"));
    headSel.input.value = sel.get("head") === null ? "fused" : String(sel.get("head"));
    scaleSel.input.value = model.get("scale");
    const head = sel.get("head"), layer = sel.get("layer");
    const key = `${layer}/${head === null ? sel.get("fusion") : head}`;
    const li = layers.indexOf(layer), hi = head === null ? -1 : heads.indexOf(head);
    const other = li >= 0 && (bLayers[li] !== layer || (hi >= 0 && bHeads[hi] !== head)) ? ` (${nameB}: layer ${bLayers[li]}${hi >= 0 ? ` head ${bHeads[hi]}` : ""})` : "";
    ui.title.textContent = `Difference ${nameB} − ${nameA} · layer ${layer} · ${head === null ? `${sel.get("fusion")} of heads` : `head ${head}`}${other}`;
    ui.root.dataset.layer = String(layer);
    ui.root.dataset.head = head === null ? sel.get("fusion") : String(head);
    pair = getPair(key);
    ui.status.textContent = pair ? "" : `The maps for layer ${layer}, ${head === null ? sel.get("fusion") : `head ${head}`} are not in this view's data ` +
      `(it holds ${model.get("_maps")?.keys?.length ?? 0} of ${model.get("_maps")?.total ?? "?"}); with a running kernel they arrive in a moment, ` +
      "an exported page keeps the pairs it was saved with (raise max_bytes to keep more).";
    diff = pair ? difference(pair.a, pair.b) : null;
    vmax = diff ? maxAbs(diff, nRow, nCol, visible) : 0;
    ui.root.dataset.vmax = String(vmax);
    base.width = nCol; base.height = nRow;
    const ctx = base.getContext("2d");
    const img = ctx.createImageData(nCol, nRow);
    const kind = model.get("scale"), gamma = model.get("gamma");
    for (let i = 0; i < nRow; i++) for (let j = 0; j < nCol; j++) {
      const p = (i * nCol + j) * 4;
      const rgb = !diff ? [246, 248, 250] : visible(i, j) ? divergingColor(signedPosition(diff[i * nCol + j], vmax, kind, gamma)) : [234, 238, 242];
      img.data[p] = rgb[0]; img.data[p + 1] = rgb[1]; img.data[p + 2] = rgb[2]; img.data[p + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    drawLegend();
    markGrid();
    paint();
  }

  function paint() {
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(base, 0, 0, W, Hh);
    // A token (a's position) marks its column and its row, where it has them.
    const band = (index, color) => {
      if (index === null || index === undefined) return;
      const c = ax.colOf.get(index), r = ax.rowOf.get(index);
      ctx.strokeStyle = color; ctx.lineWidth = 1.5;
      if (c !== undefined) ctx.strokeRect(c * k, 0, k, Hh);
      if (r !== undefined) ctx.strokeRect(0, r * k, W, k);
    };
    band(sel.get("pinned_token"), "rgba(9,105,218,0.9)");
    if (cursor) {
      // The pointer reads one cell: its query row and the key column under it, not the column of
      // the hovered (query) token.
      ctx.strokeStyle = "rgba(255,140,0,0.95)"; ctx.lineWidth = 1.5;
      ctx.strokeRect(cursor.j * k, 0, k, Hh);
      ctx.strokeRect(0, cursor.i * k, W, k);
      canvas.dataset.crossQuery = String(ax.rowToken(cursor.i));
      canvas.dataset.crossKey = String(colsA[cursor.j]);
    } else {
      band(sel.get("hovered_token"), "rgba(255,140,0,0.95)");
      delete canvas.dataset.crossQuery; delete canvas.dataset.crossKey;
    }
  }

  function drawLegend() {
    const bar = h("canvas");
    const w = 180;
    bar.width = w; bar.height = 12; bar.style.cssText = `width:${w}px;height:12px;display:block;border:1px solid #8c959f`;
    const ctx = bar.getContext("2d");
    for (let x = 0; x < w; x++) { ctx.fillStyle = cssColor(divergingColor((x / (w - 1)) * 2 - 1)); ctx.fillRect(x, 0, 1, 12); }
    const ticks = h("div", { style: `display:flex;justify-content:space-between;width:${w}px` },
      h("span", { text: `−${fmt(vmax)}` }), h("span", { text: "0" }), h("span", { text: `+${fmt(vmax)}` }));
    const text = h("div", {},
      h("div", { text: `blue: more attention in ${nameA}; red: more in ${nameB}; ${model.get("scale")} scale, full colour at ±${fmt(vmax)}` }),
      h("div", { text: `grid: total variation between ${nameA} and ${nameB} per head, 0 (same) to ${tvMax.toFixed(2)} (largest here); click a head to compare it` }));
    ui.legend.replaceChildren(h("div", {}, bar, ticks), text);
  }

  function cellAt(ev) {
    const r = canvas.getBoundingClientRect();
    const j = Math.floor(((ev.clientX - r.left) / r.width) * nCol), i = Math.floor(((ev.clientY - r.top) / r.height) * nRow);
    return i >= 0 && i < nRow && j >= 0 && j < nCol ? { i, j } : null;
  }
  let cursor = null; // {i, j} under the pointer
  canvas.addEventListener("mousemove", (ev) => {
    const c = cellAt(ev);
    cursor = c;
    if (!c) { hideTip(ui.tip); paint(); return; }
    const { i, j } = c;
    const side = (col) => {
      const pa = colsA[col], pb = colsB[col];
      return tokens[pa] === bTokens[pb] && pa === pb ? `${pa} ${exactToken(tokens[pa])}`
        : `${nameA} ${pa} ${exactToken(tokens[pa])} · ${nameB} ${pb} ${exactToken(bTokens[pb])}`;
    };
    let text = `query ${side(ax.rows[i])}\nkey ${side(j)}\n`;
    if (!visible(i, j)) text += "masked";
    else if (!pair) text += "not loaded";
    else {
      const a = pair.a[i * nCol + j], b = pair.b[i * nCol + j], d = b - a;
      text += `${nameA} ${a.toPrecision(3)}\n${nameB} ${b.toPrecision(3)}\n${nameB} − ${nameA} ${d >= 0 ? "+" : ""}${d.toPrecision(3)}`;
    }
    showTip(ui.tip, ui.root, text, ev);
    sel.set({ hovered_token: ax.rowToken(i) });
    paint();
  }, { signal });
  canvas.addEventListener("mouseleave", () => { cursor = null; hideTip(ui.tip); sel.set({ hovered_token: null }); paint(); }, { signal });
  canvas.addEventListener("click", (ev) => {
    const c = cellAt(ev);
    const q = c ? ax.rowToken(c.i) : null;
    if (c) sel.set({ pinned_token: sel.get("pinned_token") === q ? null : q }, { immediate: true });
  }, { signal });

  function onHover() { marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token")); paint(); }
  sel.on(["layer", "head", "fusion"], draw);
  sel.on(["hovered_token", "pinned_token"], onHover);
  for (const name of ["_maps", "scale", "gamma"]) model.on(`change:${name}`, draw);
  model.on("change:colormap", paintGrid);
  paintGrid();
  draw();
  onHover();
  return () => el.replaceChildren();
}
