// A minimal anywidget host for pages that have no kernel: the file aw.save_html writes, and the
// HTML that `jupyter nbconvert --to html` makes of a notebook. It reads widget state in the
// @jupyter-widgets/schema form (state + base64 buffers), gives every model a get/set/on/off shim,
// resolves "anywidget:<id>" and "IPY_MODEL_<id>" references through host.getModel, imports each
// model's `_esm` text and renders the views. Plain script (no module syntax) so it can also sit in
// a notebook output.
(function () {
  "use strict";
  if (typeof window !== "undefined" && window.__attnwidgetHost) return;

  const WIDGET_STATE = "application/vnd.jupyter.widget-state+json";
  const WIDGET_VIEW = "application/vnd.jupyter.widget-view+json";
  // Views this host renders get their <script> retyped so @jupyter-widgets/html-manager, when it
  // does load (online), leaves them alone instead of drawing them a second time.
  const CLAIMED = "application/vnd.attnwidget.claimed-view+json";

  function parseRef(ref) {
    if (typeof ref === "string") {
      if (ref.startsWith("anywidget:")) return ref.slice("anywidget:".length);
      if (ref.startsWith("IPY_MODEL_")) return ref.slice("IPY_MODEL_".length);
    }
    throw new Error(`attnwidget export: not a widget reference: ${JSON.stringify(ref)}`);
  }

  function decodeBase64(text) {
    const bin = atob(text);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // Kernels hand buffers to anywidget as DataViews; views read them with byteOffset/byteLength.
    return new DataView(bytes.buffer);
  }

  function placeBuffer(state, path, value) {
    let obj = state;
    for (let i = 0; i < path.length - 1; i++) {
      obj = obj[path[i]];
      // nbconvert keeps the buffers of every state message a widget sent: a buffer whose place a
      // later message replaced (a dict keyed by the map shown then) has nowhere to go, and is dropped.
      if (obj === null || typeof obj !== "object") return;
    }
    obj[path[path.length - 1]] = value;
  }

  // Deep equality over JSON values; binary values compare by identity. Without it a linked view
  // that echoes a value back would fire change events forever.
  function same(a, b) {
    if (a === b) return true;
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
      return Number.isNaN(a) && Number.isNaN(b);
    }
    if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => same(a[k], b[k]));
  }

  class Model {
    constructor(id, spec, registry) {
      this.id = id;
      this.spec = spec;
      this.registry = registry;
      this.attrs = Object.assign({}, spec.state || {});
      for (const buf of spec.buffers || []) {
        placeBuffer(this.attrs, buf.path, decodeBase64(buf.data));
      }
      this.listeners = []; // {name, callback, context}
      this.binding = null;
    }

    get(name) {
      return this.attrs[name];
    }

    set(name, value) {
      const changes = typeof name === "object" && name !== null ? name : { [name]: value };
      const changed = [];
      for (const [k, v] of Object.entries(changes)) {
        if (!same(this.attrs[k], v)) {
          this.attrs[k] = v;
          changed.push(k);
        }
      }
      for (const k of changed) this.emit(`change:${k}`, this.attrs[k]);
      if (changed.length) this.emit("change");
    }

    emit(name, value) {
      for (const l of this.listeners.slice()) {
        if (l.name !== name) continue;
        try {
          l.callback(value);
        } catch (err) {
          console.error(`attnwidget export: a ${name} listener failed`, err);
        }
      }
    }

    on(name, callback, context) {
      for (const n of String(name).split(/\s+/).filter(Boolean)) {
        this.listeners.push({ name: n, callback, context });
      }
    }

    off(name, callback, context) {
      this.listeners = this.listeners.filter(
        (l) =>
          !(
            (name == null || l.name === name) &&
            (callback == null || l.callback === callback) &&
            (context == null || l.context === context)
          ),
      );
    }

    proxy(context) {
      const model = this;
      return {
        get: (name) => model.get(name),
        set: (name, value) => model.set(name, value),
        // No kernel to sync with: the change is already visible to every view of this page.
        save_changes: () => {},
        send: () => {},
        on: (name, callback) => model.on(name, callback, context),
        off: (name, callback) => model.off(name, callback, context),
        widget_manager: model.registry.managerFacade,
      };
    }
  }

  async function importEsm(text) {
    const url = URL.createObjectURL(new Blob([text], { type: "text/javascript" }));
    try {
      return await import(/* webpackIgnore: true */ url);
    } finally {
      URL.revokeObjectURL(url);
    }
  }

  function loadCss(css, id) {
    if (!css || document.querySelector(`style[data-anywidget-id="${CSS.escape(id || "")}"]`)) return;
    const style = document.createElement("style");
    style.dataset.anywidgetId = id || "";
    style.textContent = css;
    document.head.appendChild(style);
  }

  class Registry {
    constructor(state, esmTable) {
      this.models = new Map();
      for (const [id, spec] of Object.entries(state)) {
        const model = new Model(id, spec, this);
        const esm = model.attrs._esm;
        // save_html stores the shared bundle text once and points models at it.
        if (esm && typeof esm === "object" && "attnwidget_esm" in esm) {
          model.attrs._esm = esmTable[esm.attnwidget_esm];
        }
        this.models.set(id, model);
      }
      const registry = this;
      this.managerFacade = {
        get_model: async (id) => registry.model(id).proxy(Symbol("widget_manager")),
      };
    }

    model(id) {
      const model = this.models.get(id);
      if (!model) throw new Error(`attnwidget export: the page holds no widget model ${id}`);
      return model;
    }

    isAnywidget(id) {
      const spec = this.models.get(id)?.spec;
      return !!spec && spec.model_module === "anywidget";
    }

    // Like anywidget's runtime: each model imports its own copy of its ESM, so module-level
    // variables are never shared between widgets (shared state must go through a model).
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

    host(signal) {
      const registry = this;
      const host = {
        async getModel(ref) {
          const model = registry.model(parseRef(ref));
          const context = Symbol("host.getModel");
          signal.addEventListener("abort", () => model.off(null, null, context));
          return model.proxy(context);
        },
        async getWidget(ref) {
          const model = registry.model(parseRef(ref));
          const { exports } = await registry.bind(model);
          return {
            exports,
            render: ({ el, signal: viewSignal }) => registry.render(model.id, el, viewSignal ?? signal),
          };
        },
      };
      return host;
    }

    async render(id, el, signal) {
      const model = this.model(id);
      const { def } = await this.bind(model);
      if (!def.render) return;
      signal = signal ?? new AbortController().signal;
      const context = Symbol("view");
      const cleanup = await def.render({
        model: model.proxy(context),
        el,
        signal,
        host: this.host(signal),
        experimental: this.experimental(),
      });
      signal.addEventListener("abort", () => {
        model.off(null, null, context);
        if (typeof cleanup === "function") cleanup();
      });
    }
  }

  function showError(el, err) {
    console.error(err);
    const box = document.createElement("pre");
    box.className = "attnwidget-export-error";
    box.style.color = "#b00";
    box.textContent = `attnwidget: this view could not be drawn: ${err && err.message ? err.message : err}`;
    el.appendChild(box);
  }

  // A line in place of a widget this host does not draw. It goes away if html-manager (online)
  // draws the widget beside it.
  function offlineNote(doc, script, spec) {
    const what = spec ? `${spec.model_module || "widget"} ${(spec.model_name || "").replace(/Model$/, "")}`.trim() : "A widget";
    const note = doc.createElement("div");
    note.className = "attnwidget-offline-note aw-offline";
    note.style.cssText = "font:13px/1.4 system-ui,sans-serif;padding:8px 10px;border:1px dashed #8c959f;border-radius:6px;color:#57606a;margin:4px 0";
    note.textContent = `${what}: not drawn in this page. It is a widget of another library, drawn by ` +
      "@jupyter-widgets/html-manager, which loads from the network; open the page online or run the notebook to see it.";
    script.after(note);
    const parent = script.parentElement;
    if (!parent || typeof MutationObserver === "undefined") return;
    const drawn = () => [...parent.children].some((c) => c !== note && c !== script && c.tagName !== "SCRIPT" &&
      (c.classList.contains("jupyter-widgets") || c.querySelector?.(".jupyter-widgets, .widget-box, .widget-container")));
    const watch = new MutationObserver(() => { if (drawn()) { note.remove(); watch.disconnect(); } });
    watch.observe(parent, { childList: true, subtree: true });
  }

  // Renders every view the page asks for. Returns a promise that settles when all have drawn
  // (document.documentElement gets data-attnwidget-ready then, for scripts waiting on it).
  async function boot(doc) {
    const pending = [];
    const pageData = doc.querySelector('script[type="application/vnd.attnwidget.page+json"]');
    if (pageData) {
      const page = JSON.parse(pageData.textContent);
      const registry = new Registry(page.state, page.esm || []);
      for (const el of doc.querySelectorAll(".attnwidget-export-view[data-model-id]")) {
        pending.push(registry.render(el.dataset.modelId, el).catch((err) => showError(el, err)));
      }
    }
    const stateEl = doc.querySelector(`script[type="${WIDGET_STATE}"]`);
    if (stateEl) {
      const registry = new Registry(JSON.parse(stateEl.textContent).state || {}, []);
      for (const script of doc.querySelectorAll(`script[type="${WIDGET_VIEW}"]`)) {
        let id;
        try {
          id = JSON.parse(script.textContent).model_id;
        } catch (err) {
          continue;
        }
        if (!registry.isAnywidget(id)) {
          // Other widget libraries are html-manager's job, which an offline page cannot load: say
          // what the cell holds instead of leaving it empty, until html-manager draws it.
          offlineNote(doc, script, registry.models.get(id)?.spec);
          continue;
        }
        script.type = CLAIMED;
        const el = doc.createElement("div");
        el.className = "attnwidget-export-view";
        el.dataset.modelId = id;
        script.after(el);
        pending.push(registry.render(id, el).catch((err) => showError(el, err)));
      }
    }
    await Promise.all(pending);
    doc.documentElement.dataset.attnwidgetReady = String(pending.length);
  }

  if (typeof window !== "undefined") {
    window.__attnwidgetHost = { boot, Model, Registry };
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", () => boot(document));
    } else {
      // In a live notebook the output holding this script is inserted after load; there is no
      // widget-state script there, so boot finds nothing and the kernel-backed widgets draw.
      boot(document);
    }
  }
})();
