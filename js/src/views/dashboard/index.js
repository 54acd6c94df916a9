// Dashboard: the linked views in one output, pictures first, sized to a laptop's first screen: one
// toolbar for what the views share (ui/toolbar.js), the token text, then the heatmap on the left
// and a tabbed pane [Heads | Rollout | Graph] on the right (one column while the output is narrow).
// Each child is drawn by this bundle's own view function on the child's model (resolved with
// host.getModel), embedded: it draws none of the toolbar's controls and offers its PNG to the
// toolbar's menu. Every pane is drawn at once: the inactive tabs are stacked in the same grid cell
// with `visibility: hidden`, so they have a size, draw and stay linked without a click.
import { h, whenSized, onWidthChange } from "../../ui/dom.js";
import { toolbar } from "../../ui/toolbar.js";
import { connectSelection } from "../../lib/selection.js";
import heatmap from "../heatmap/index.js";
import headgrid from "../headgrid/index.js";
import rollout from "../rollout/index.js";
import graph from "../graph/index.js";
import tokentext from "../tokentext/index.js";

const VIEWS = { tokentext, heatmap, headgrid, rollout, graph };
const TABS = [["headgrid", "Heads"], ["rollout", "Rollout"], ["graph", "Graph"]];
// Below this width the two columns would squeeze the maps: one column instead.
const WIDE_PX = 760;

/**
 * Tabs over panes stacked in one grid cell: the chosen pane is shown, the others keep their size
 * and drawing under `visibility: hidden`. Returns `{ node, panes }` (name -> the pane's element).
 */
export function tabbedPane(tabs, signal) {
  const bar = h("div", { class: "aw-tabs" });
  bar.setAttribute("role", "tablist");
  const stack = h("div", { class: "aw-tab-stack" });
  const panes = {}, buttons = {};
  const choose = (name) => {
    for (const [n, b] of Object.entries(buttons)) {
      const on = n === name;
      b.setAttribute("aria-selected", String(on));
      b.setAttribute("aria-pressed", String(on));
      b.tabIndex = on ? 0 : -1;
      panes[n].classList.toggle("aw-tab-hidden", !on);
      panes[n].setAttribute("aria-hidden", String(!on));
    }
    node.dataset.tab = name;
  };
  for (const [name, label] of tabs) {
    const b = h("button", { class: "aw-btn aw-tab", text: label, "data-tab": name });
    b.setAttribute("role", "tab");
    b.addEventListener("click", () => choose(name), { signal });
    buttons[name] = b;
    bar.append(b);
    panes[name] = h("div", { class: "aw-slot aw-tab-pane", "data-pane": name });
    panes[name].setAttribute("role", "tabpanel");
    stack.append(panes[name]);
  }
  bar.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
    const names = Object.keys(buttons), at = names.indexOf(node.dataset.tab);
    const next = names[(at + (ev.key === "ArrowRight" ? 1 : names.length - 1)) % names.length];
    choose(next);
    buttons[next].focus();
  }, { signal });
  const node = h("div", { class: "aw-tabbed" }, bar, stack);
  if (tabs.length) choose(tabs[0][0]);
  return { node, panes, choose };
}

export default async function render({ model, el, host, signal }) {
  const root = h("div", { class: "aw-dashboard" });
  el.replaceChildren(root);
  await whenSized(root);
  root.classList.toggle("aw-wide", root.clientWidth >= WIDE_PX || root.clientWidth === 0);
  // Two columns or one follow the output's width; each view then follows its slot's.
  onWidthChange(root, (w) => root.classList.toggle("aw-wide", w >= WIDE_PX), signal);
  const notes = model.get("notes") ?? [];
  if (notes.length) {
    const box = h("div", { class: "aw-dashboard-notes aw-span" });
    for (const n of notes) box.append(h("div", { text: n }));
    root.append(box);
  }
  const children = {};
  for (const name of Object.keys(VIEWS)) {
    const ref = model.get(name);
    if (ref) children[name] = await host.getModel(ref);
  }
  const order = ["heatmap", "headgrid", "rollout", "graph", "tokentext"].filter((n) => children[n]);
  const sel = model.get("selection") && order.length ? await connectSelection(model, host, { signal }) : null;
  const bar = toolbar({ sel, models: order.map((n) => children[n]), signal });
  bar.node.classList.add("aw-span", "attnwidget");
  root.append(bar.node);

  const slots = {};
  if (children.tokentext) root.append(slots.tokentext = h("div", { class: "aw-slot aw-span aw-dash-text" }));
  const left = h("div", { class: "aw-dash-col" }), right = h("div", { class: "aw-dash-col" });
  root.append(left, right);
  if (children.heatmap) left.append(slots.heatmap = h("div", { class: "aw-slot" }));
  const tabs = tabbedPane(TABS.filter(([n]) => children[n]), signal);
  right.append(tabs.node);
  Object.assign(slots, tabs.panes);
  const cleanups = [];
  for (const name of ["tokentext", "heatmap", "headgrid", "rollout", "graph"]) {
    if (!children[name]) continue;
    cleanups.push(await VIEWS[name]({ model: children[name], el: slots[name], host, signal, embedded: true, menu: bar.menu }));
  }
  root.dataset.drawn = "1";
  return () => { for (const c of cleanups) c?.(); el.replaceChildren(); };
}
