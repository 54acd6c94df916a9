// RolloutBar: attention rollout of one query token as bars over the tokens. The parts beside this
// file: geometry.js (column widths, bar heights and colours), bars.js (the live canvas and columns),
// rows.js (which rollout row is drawn, and why one is missing), ask.js (asking the kernel for a
// row), export.js (the PNG).
import { slice0 } from "../../lib/decode.js";
import { payloadCache, formatWeight } from "../../lib/store.js";
import { connectSelection } from "../../lib/selection.js";
import { attentionFacts } from "../../lib/facts.js";
import { h, makeRoot, TokenMarks, exactToken, wireTokens, whenSized, onWidthChange } from "../../ui/dom.js";
import { scaleControls, viewScale, pngButton, stepControl, sinkBox, sinkLine } from "../../ui/controls.js";
import { drawLegend, hideNotes } from "../../ui/legend.js";
import { showTip, hideTip } from "../../ui/tips.js";
import { theme } from "../../ui/theme.js";
import { sinkOfVector } from "../../lib/sink.js";
import { anchorNote, uniformShare } from "../../lib/weightscale.js";
import { barLayout, barCaption, barValue } from "../../lib/bars.js";
import { barGeometry, barPaint } from "./geometry.js";
import { createBars } from "./bars.js";
import { currentRollout, rowOf, same } from "./rows.js";
import { rowAsk } from "./ask.js";
import { drawRolloutExport } from "./export.js";

// One line says how to read the bars; the longer explanation is its tooltip.
const ABOUT = "Bars: how much each input token flows into the query token through all layers (click a token to roll out from it).";
const CAPTION = "bars: how much each token flows into the query token through all layers";

// Embedded in a dashboard (`embedded`), the dashboard's toolbar holds the scale, colour, hiding and
// step controls and `menu` offers the PNG: the view draws none of them, only its bars and one
// caption line.
export default async function render({ model, el, host, signal, embedded = false, menu = null }) {
  const ui = makeRoot(el, "rollout");
  await whenSized(ui.root);
  const sink = embedded ? null : sinkBox();
  if (sink) ui.body.before(sink);
  const sel = await connectSelection(model, host, { signal });
  const { tokens } = attentionFacts(model);
  const n = tokens.length;
  const marks = new TokenMarks();
  // Beside a view that switches to norms, the title says that the rollout composes weights.
  const measureName = model.get("_measure_name") ?? "";
  const syncScale = embedded ? () => {} : scaleControls(model, ui.controls, signal);
  if (embedded) menu?.png("rollout", "attention-rollout.png", () => drawExport());
  else pngButton(ui.controls, "attention-rollout.png", () => drawExport(), signal);
  const step = embedded ? null : stepControl(sel, tokens, signal);
  if (step) ui.body.append(step.node);

  // Shorter bars in a dashboard, so every view starts on a laptop's first screen; above the bars,
  // a band for the value printed over a cut bar (lib/bars.js).
  const geom = barGeometry(n, ui.root.clientWidth, { barH: embedded ? 52 : 120, labelH: 12 });
  const bars = createBars(tokens, geom, ui.root, marks);
  bars.paint(null, null);
  const caption = h("div", { class: "aw-muted aw-caption", style: "margin-top:2px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis", text: CAPTION, title: ABOUT });
  ui.body.append(bars.row, caption);
  wireTokens(bars.row, sel, signal);

  // What was last drawn, read by the tooltip and the export.
  const drawn = { scale: null, values: null, layout: null };
  // The rollout crosses coded and deflated: decoded (asynchronously) once per payload.
  const coded = payloadCache(model);
  const ROLLOUTS = ["_rollout", "_rollout_alt"];
  const current = () => currentRollout(model, (p) => coded.get(p));
  const whenDecoded = (fn) => () => coded.ready(ROLLOUTS).then(() => { if (!signal.aborted) fn(); });
  function query() {
    const p = sel.get("pinned_token");
    return p !== null && p !== undefined ? p : model.get("query");
  }
  const ask = rowAsk(ui, model, tokens, query, signal);

  function draw() {
    syncScale();
    const q = query();
    const { data, hide } = current();
    if (!data) return; // still being decoded; drawn when it is
    ui.root.dataset.query = String(q);
    const index = rowOf(data, q);
    const title = `Attention rollout${measureName ? ` of ${measureName}` : ""} into token ${q} ${exactToken(tokens[q])}`;
    if (index < 0) {
      ask.missing(q, data);
      ui.title.textContent = title;
      bars.paint(null, null);
      drawn.layout = null;
      caption.textContent = CAPTION;
      caption.title = ABOUT;
      delete ui.root.dataset.cut;
      bars.outline(q);
      drawn.values = null;
      return;
    }
    ask.drawn();
    const values = drawn.values = slice0(data, index);
    let vmax = 0;
    for (let j = 0; j < n; j++) if (values[j] > vmax) vmax = values[j];
    // Rollout through many layers spans many decades (a sink takes ~1, the rest 1e-5..1e-8): the log
    // floor follows the data down to nine decades so the other bars have height.
    const scale = drawn.scale = viewScale(model, vmax || 1, values, 9);
    if (sink) sinkLine(sink, model, tokens, sinkOfVector(values, { hide }), `the rollout into token ${q}`, signal);
    const cmap = model.get("colormap");
    const layout = drawn.layout = barLayout(values, scale, { hide });
    const { heights, colours } = barPaint(values, layout, scale, { hide, cmap, border: theme(ui.root).border, barH: geom.barH });
    bars.label(q, values);
    bars.paint(heights, colours, layout.clipped);
    if (layout.clipped >= 0) bars.cutLabel.textContent = barValue(values[layout.clipped]);
    const about = barCaption(layout, values, (j) => `token ${j} ${exactToken(tokens[j])}`);
    caption.textContent = about.text;
    caption.title = `${about.title} Colours show the absolute weight on the legend's scale. ${ABOUT}`;
    ui.root.dataset.barTop = String(layout.top);
    ui.root.dataset.cut = String(layout.clipped);
    ui.title.textContent = title;
    const notes = hideNotes(tokens, hide);
    const want = model.get("hide");
    if (!same(want, hide)) notes.push(`rollout was computed with hide = [${hide}]; applying [${want}] needs the kernel`);
    notes.push(anchorNote(scale, n));
    drawLegend(ui.legend, scale, cmap, notes, 180, null, uniformShare(n));
  }

  bars.row.addEventListener("mousemove", (ev) => {
    const t = ev.target.closest("[data-token-index]");
    if (!t || !drawn.values) { hideTip(ui.tip); return; }
    const j = Number(t.dataset.tokenIndex);
    showTip(ui.tip, ui.root, `${j} ${exactToken(tokens[j])}\nrollout ${formatWeight(drawn.values[j], current().data?.precision ?? 0)}`, ev);
  }, { signal });
  bars.row.addEventListener("mouseleave", () => hideTip(ui.tip), { signal });
  const drawExport = () => drawRolloutExport(drawn, geom, { tokens, title: ui.title.textContent, caption: caption.textContent, cmap: model.get("colormap") });

  function onHover() { marks.hover(sel.get("hovered_token")); marks.pin(sel.get("pinned_token")); }
  sel.on(["pinned_token"], draw);
  sel.on(["hovered_token", "pinned_token"], onHover);
  for (const name of ["_rollout", "_rollout_hide", "_rollout_alt", "_pending", "query", "scale", "gamma", "colormap", "hide"]) model.on(`change:${name}`, whenDecoded(draw));
  await coded.ready(ROLLOUTS);
  onWidthChange(ui.root, (width) => { if (bars.fit(width)) draw(); }, signal);
  draw();
  onHover();
  return () => el.replaceChildren();
}
