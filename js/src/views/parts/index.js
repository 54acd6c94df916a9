// Parts of an encoder-decoder result: a selector over the encoder dashboard, the decoder
// dashboard and the cross-attention heatmap, one drawn at a time (the others cost nothing until
// picked). A hovered or pinned token is carried between the parts where it appears: source tokens
// between the encoder and the cross keys, target tokens between the decoder and the cross query
// rows (lib/links.js says which selection field is which). Two token strips above the selector,
// source and target, stay drawn whatever part is shown, so a token hovered in the part is marked
// in its strip and a strip token hovered marks it in the part.
import { h, tokenElement, exactToken, wireTokens, TokenMarks } from "../../ui/dom.js";
import { connectSelection } from "../../lib/selection.js";
import { linkParts } from "../../lib/links.js";
import { toolbar } from "../../ui/toolbar.js";
import dashboard from "../dashboard/index.js";
import heatmap from "../heatmap/index.js";
import crossgraph from "../crossgraph/index.js";

const VIEWS = { dashboard, heatmap, crossgraph };
const PARTS = [
  ["encoder", "encoder", "source tokens attending to source tokens"],
  ["decoder", "decoder", "target tokens attending to earlier target tokens"],
  ["cross", "cross", "target tokens (rows) attending to source tokens (columns)"],
];

export default async function render({ model, el, host, signal }) {
  const root = h("div", { class: "attnwidget aw-parts" });
  const bar = h("div", { class: "aw-controls aw-part-bar", role: "tablist" });
  bar.setAttribute("aria-label", "part");
  const slot = h("div", { class: "aw-part" });
  const strips = h("div", { class: "aw-part-strips" });
  root.append(strips, bar, slot);
  el.replaceChildren(root);
  const children = {};
  for (const [name] of PARTS) children[name] = await host.getModel(model.get(name));
  const graphRef = model.get("cross_graph");
  const crossGraph = graphRef ? await host.getModel(graphRef) : null;

  // Each part's selection, linked field by field to the others (source to source, target to target).
  const sels = {};
  for (const [name] of PARTS) sels[name] = await connectSelection(children[name], host, { signal });
  linkParts(sels);
  // Source tokens are the encoder's (the cross keys), target tokens the decoder's (the cross rows):
  // each strip hovers and pins through its own part's selection, which links carry to the cross part.
  const cross = children.cross;
  tokenStrip(strips, "source", cross.get("_tokens"), sels.encoder, signal);
  tokenStrip(strips, "target", cross.get("_query_tokens"), sels.decoder, signal);

  const buttons = {};
  bar.append(h("span", { class: "aw-part-label", text: "part " }));
  for (const [name, label, help] of PARTS) {
    const b = h("button", { class: "aw-btn aw-part-tab", text: label, title: help, role: "tab", "data-part": name });
    b.addEventListener("click", () => { if (model.get("part") !== name) { model.set("part", name); model.save_changes(); } }, { signal });
    buttons[name] = b;
    bar.append(b);
  }

  let shown = null, partCtl = null, cleanup = null;
  async function draw() {
    const name = model.get("part");
    if (name === shown) return;
    shown = name;
    if (partCtl) { partCtl.abort(); cleanup?.(); cleanup = null; }
    const ctl = (partCtl = new AbortController());
    for (const [n, b] of Object.entries(buttons)) {
      b.setAttribute("aria-pressed", String(n === name));
      b.setAttribute("aria-selected", String(n === name));
    }
    root.dataset.part = name;
    const box = h("div");
    slot.replaceChildren(box);
    const child = children[name];
    const view = VIEWS[child.get("_view_kind")];
    // A part that is a dashboard draws its own toolbar; the cross part (a heatmap and its graph)
    // gets one here, so its embedded views keep layer, head, scale, colours, hiding and PNG.
    let menu = null;
    if (child.get("_view_kind") !== "dashboard") {
      const models = [child, ...(name === "cross" && crossGraph ? [crossGraph] : [])];
      const tb = toolbar({ sel: await connectSelection(child, host, { signal: ctl.signal }), models, signal: ctl.signal });
      tb.node.classList.add("aw-part-toolbar");
      box.before(tb.node);
      menu = tb.menu;
    }
    const dones = [await view({ model: child, el: box, host, signal: ctl.signal, embedded: true, menu })];
    if (name === "cross" && crossGraph && !ctl.signal.aborted) {
      const below = h("div", { class: "aw-slot", style: "margin-top:8px" });
      slot.append(below);
      dones.push(await VIEWS[crossGraph.get("_view_kind")]({ model: crossGraph, el: below, host, signal: ctl.signal, embedded: true, menu }));
    }
    const done = () => { for (const d of dones) d?.(); };
    if (ctl.signal.aborted) done();
    else cleanup = done;
  }
  const onPart = () => { draw(); };
  model.on("change:part", onPart);
  signal.addEventListener("abort", () => { model.off("change:part", onPart); partCtl?.abort(); cleanup?.(); });
  await draw();
  return () => { partCtl?.abort(); cleanup?.(); el.replaceChildren(); };
}

const SIDES = {
  source: "source tokens: the encoder's tokens and the cross-attention keys (columns)",
  target: "target tokens: the decoder's tokens and the cross-attention queries (rows)",
};

/** One labelled strip of `tokens`, hovered and pinned through `sel`'s token fields; a token marked
 * from elsewhere is scrolled into the strip's view (the strip scrolls past three lines). */
function tokenStrip(box, side, tokens, sel, signal) {
  const strip = h("div", { class: "aw-strip aw-part-strip", "data-side": side });
  const marks = new TokenMarks();
  tokens.forEach((_, i) => {
    const t = tokenElement(tokens, i);
    t.title = `${side} ${i}: ${exactToken(tokens[i])}`;
    strip.append(t);
    marks.add(i, t);
  });
  wireTokens(strip, sel, signal);
  const label = h("span", { class: "aw-part-strip-label", text: side, title: SIDES[side] });
  box.append(label, strip);
  // Where each token sits, read after layout (when the strip is laid out anew), so a hover from
  // the part never makes the browser lay the page out again just to ask.
  let rows = null, height = 0, scrolled = 0, inside = false;
  const measure = () => {
    height = strip.clientHeight;
    rows = strip.scrollHeight > height + 1 ? tokens.map((_, i) => { const t = marks.byIndex.get(i)[0]; return [t.offsetTop, t.offsetHeight]; }) : null;
    scrolled = strip.scrollTop;
  };
  if (typeof ResizeObserver !== "undefined") {
    const ro = new ResizeObserver(measure);
    ro.observe(strip);
    signal.addEventListener("abort", () => ro.disconnect());
  }
  strip.addEventListener("scroll", () => { scrolled = strip.scrollTop; }, { signal, passive: true });
  strip.addEventListener("mouseenter", () => { inside = true; }, { signal });
  strip.addEventListener("mouseleave", () => { inside = false; }, { signal });
  const reveal = (i) => {
    // The strip is the tokens' offset parent (position: relative), so the tops are the strip's.
    const at = rows?.[i];
    if (!at || inside) return;
    if (at[0] < scrolled || at[0] + at[1] > scrolled + height) strip.scrollTop = scrolled = Math.max(0, at[0] - 2);
  };
  const sync = () => {
    const hov = sel.get("hovered_token"), pin = sel.get("pinned_token");
    if (hov !== marks.hovered && hov !== null && hov !== undefined) reveal(hov);
    else if (pin !== marks.pinned && pin !== null && pin !== undefined) reveal(pin);
    marks.hover(hov);
    marks.pin(pin);
  };
  sel.on(["hovered_token", "pinned_token"], sync);
  sync();
}
