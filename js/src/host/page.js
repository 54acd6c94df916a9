// @ts-check
// A minimal anywidget host for pages that have no kernel: the file aw.save_html writes, and the
// HTML that `jupyter nbconvert --to html` makes of a notebook. Built by js/build.mjs into
// attnwidget/static/host.js as a plain script (no module syntax), so it can also sit in a notebook
// output. The models live in host/state.js; this module imports each model's `_esm` text, gives
// views a host with getModel/getWidget, and renders every view the page asks for.
import { Models, parseRef, readPage, readWidgetState, viewModelId, widgetName } from "./state.js";

/** @typedef {import("./state.js").Model} Model */
/** @typedef {import("./state.js").ModelSpec} ModelSpec */

const WIDGET_STATE = "application/vnd.jupyter.widget-state+json";
const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";
const PAGE = "application/vnd.attnwidget.page+json";
// Views this host renders get their <script> retyped so @jupyter-widgets/html-manager, when it
// does load (online), leaves them alone instead of drawing them a second time.
const CLAIMED = "application/vnd.attnwidget.claimed-view+json";

/** @param {string} text */
async function importEsm(text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
  try {
    return await import(/* webpackIgnore: true */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

/**
 * @param {string | undefined} css
 * @param {string | undefined} id
 */
function loadCss(css, id) {
  if (!css || document.querySelector(`style[data-anywidget-id="${CSS.escape(id || "")}"]`)) return;
  const style = document.createElement("style");
  style.dataset.anywidgetId = id || "";
  style.textContent = css;
  document.head.appendChild(style);
}

/** The models of one state, and the views drawn from them. */
export class Registry extends Models {
  /**
   * Like anywidget's runtime: each model imports its own copy of its ESM, so module-level
   * variables are never shared between widgets (shared state must go through a model).
   * @param {Model} model
   * @returns {Promise<{ def: any, exports: object | undefined }>}
   */
  bind(model) {
    if (!model.binding) {
      model.binding = (async () => {
        loadCss(model.get("_css"), model.get("_anywidget_id"));
        const mod = await importEsm(model.get("_esm"));
        let def = mod.default ?? mod;
        if (typeof def === "function") def = await def();
        const controller = new AbortController();
        const exports = await def.initialize?.({
          model: model.proxy(Symbol("initialize")),
          signal: controller.signal,
          experimental: this.experimental(),
        });
        return { def, exports: typeof exports === "object" ? exports : undefined };
      })();
    }
    return model.binding;
  }

  experimental() {
    return {
      invoke: async () => {
        throw new Error("attnwidget export: this page has no kernel to invoke");
      },
    };
  }

  /**
   * The `host` a view gets: other models and widgets by reference.
   * @param {AbortSignal} signal  The view's signal: its listeners on models it got go with it.
   */
  host(signal) {
    const registry = this;
    return {
      /** @param {string} ref */
      async getModel(ref) {
        const model = registry.model(parseRef(ref));
        const context = Symbol("host.getModel");
        signal.addEventListener("abort", () => model.off(null, null, context));
        return model.proxy(context);
      },
      /** @param {string} ref */
      async getWidget(ref) {
        const model = registry.model(parseRef(ref));
        const { exports } = await registry.bind(model);
        return {
          exports,
          /** @param {{ el: HTMLElement, signal?: AbortSignal }} view */
          render: ({ el, signal: viewSignal }) => registry.render(model.id, el, viewSignal ?? signal),
        };
      },
    };
  }

  /**
   * Draw model `id` into `el`; when `signal` aborts, its listeners go and its cleanup runs.
   * @param {string} id
   * @param {HTMLElement} el
   * @param {AbortSignal} [signal]
   */
  async render(id, el, signal) {
    const model = this.model(id);
    const { def } = await this.bind(model);
    if (!def.render) return;
    const viewSignal = signal ?? new AbortController().signal;
    const context = Symbol("view");
    const cleanup = await def.render({
      model: model.proxy(context),
      el,
      signal: viewSignal,
      host: this.host(viewSignal),
      experimental: this.experimental(),
    });
    viewSignal.addEventListener("abort", () => {
      model.off(null, null, context);
      if (typeof cleanup === "function") cleanup();
    });
  }
}

/**
 * @param {HTMLElement} el
 * @param {any} err
 */
function showError(el, err) {
  console.error(err);
  const box = document.createElement("pre");
  box.className = "attnwidget-export-error";
  box.style.color = "#b00";
  box.textContent = `attnwidget: this view could not be drawn: ${err && err.message ? err.message : err}`;
  el.appendChild(box);
}

/**
 * A line in place of a widget this host does not draw. It goes away if html-manager (online)
 * draws the widget beside it.
 * @param {Document} doc
 * @param {Element} script
 * @param {ModelSpec | undefined} spec
 */
function offlineNote(doc, script, spec) {
  const note = doc.createElement("div");
  note.className = "attnwidget-offline-note aw-offline";
  note.style.cssText = "font:13px/1.4 system-ui,sans-serif;padding:8px 10px;border:1px dashed #8c959f;border-radius:6px;color:#57606a;margin:4px 0";
  note.textContent = `${widgetName(spec)}: not drawn in this page. It is a widget of another library, drawn by ` +
    "@jupyter-widgets/html-manager, which loads from the network; open the page online or run the notebook to see it.";
  script.after(note);
  const parent = script.parentElement;
  if (!parent || typeof MutationObserver === "undefined") return;
  const drawn = () => [...parent.children].some((c) => c !== note && c !== script && c.tagName !== "SCRIPT" &&
    (c.classList.contains("jupyter-widgets") || c.querySelector?.(".jupyter-widgets, .widget-box, .widget-container")));
  const watch = new MutationObserver(() => { if (drawn()) { note.remove(); watch.disconnect(); } });
  watch.observe(parent, { childList: true, subtree: true });
}

/**
 * Render every view the page asks for. Settles when all have drawn; document.documentElement then
 * gets data-attnwidget-ready (the number of views), for scripts waiting on it.
 * @param {Document} doc
 */
export async function boot(doc) {
  /** @type {Promise<void>[]} */
  const pending = [];
  const pageData = doc.querySelector(`script[type="${PAGE}"]`);
  if (pageData) {
    const page = readPage(pageData.textContent ?? "");
    const registry = new Registry(page.state, page.esm);
    for (const el of doc.querySelectorAll(".attnwidget-export-view[data-model-id]")) {
      const view = /** @type {HTMLElement} */ (el);
      pending.push(registry.render(view.dataset.modelId ?? "", view).catch((err) => showError(view, err)));
    }
  }
  const stateEl = doc.querySelector(`script[type="${WIDGET_STATE}"]`);
  if (stateEl) {
    const registry = new Registry(readWidgetState(stateEl.textContent ?? ""));
    for (const el of doc.querySelectorAll(`script[type="${WIDGET_VIEW}"]`)) {
      const script = /** @type {HTMLScriptElement} */ (el);
      const id = viewModelId(script.textContent ?? "");
      if (id === null) continue;
      if (!registry.isAnywidget(id)) {
        // Other widget libraries are html-manager's job, which an offline page cannot load: say
        // what the cell holds instead of leaving it empty, until html-manager draws it.
        offlineNote(doc, script, registry.models.get(id)?.spec);
        continue;
      }
      script.type = CLAIMED;
      const view = doc.createElement("div");
      view.className = "attnwidget-export-view";
      view.dataset.modelId = id;
      script.after(view);
      pending.push(registry.render(id, view).catch((err) => showError(view, err)));
    }
  }
  await Promise.all(pending);
  doc.documentElement.dataset.attnwidgetReady = String(pending.length);
}

// Once per page: a notebook page holds a copy of this script beside every widget output.
const w = /** @type {any} */ (typeof window !== "undefined" ? window : null);
if (w && !w.__attnwidgetHost) {
  w.__attnwidgetHost = { boot, Registry };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => boot(document));
  } else {
    // In a live notebook the output holding this script is inserted after load; there is no
    // widget-state script there, so boot finds nothing and the kernel-backed widgets draw.
    boot(document);
  }
}
