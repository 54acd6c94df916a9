// @ts-check
// The export host's models, without the DOM: widget state in the @jupyter-widgets/schema form
// (state + base64 buffers) read into models with anywidget's get/set/on/off/save_changes/send,
// and widget references ("anywidget:<id>", "IPY_MODEL_<id>") resolved. Tested in node
// (js/test/host.test.mjs); host/page.js draws the views.

/** @typedef {import("../lib/types.js").WidgetModel} WidgetModel */
/** @typedef {import("../lib/types.js").ModelListener} ModelListener */

/**
 * One model's saved state: trait values, and the binary values cut out of them as base64 buffers
 * with the path where each belongs.
 * @typedef {object} ModelSpec
 * @property {string} [model_name]
 * @property {string} [model_module]
 * @property {string} [model_module_version]
 * @property {Record<string, any>} [state]
 * @property {{ path: (string | number)[], data: string, encoding?: string }[]} [buffers]
 */

/** @typedef {{ name: string, callback: ModelListener, context: any }} Listener */

/** A view model handed to a widget: the model interface plus the manager anywidget exposes. */
/** @typedef {WidgetModel & { widget_manager: ManagerFacade }} ModelProxy */
/** @typedef {{ get_model: (id: string) => Promise<ModelProxy> }} ManagerFacade */

/**
 * The model id a widget reference names.
 * @param {unknown} ref  "anywidget:<id>" (anywidget.WidgetTrait) or "IPY_MODEL_<id>" (ipywidgets).
 * @returns {string}
 */
export function parseRef(ref) {
  if (typeof ref === "string") {
    if (ref.startsWith("anywidget:")) return ref.slice("anywidget:".length);
    if (ref.startsWith("IPY_MODEL_")) return ref.slice("IPY_MODEL_".length);
  }
  throw new Error(`attnwidget export: not a widget reference: ${JSON.stringify(ref)}`);
}

/**
 * Base64 text to bytes, as a DataView: kernels hand buffers to anywidget as DataViews, and views
 * read them with byteOffset/byteLength.
 * @param {string} text
 * @returns {DataView}
 */
export function decodeBase64(text) {
  // Native decoding where the browser has it (Chromium 140+): a 128-token page's megabyte of
  // buffers decodes in a few ms instead of a loop over every character.
  /** @type {any} */
  const U8 = Uint8Array;
  if (typeof U8.fromBase64 === "function") return new DataView(U8.fromBase64(text).buffer);
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new DataView(bytes.buffer);
}

/**
 * Put `value` at `path` inside `state`. Returns false, leaving `state` alone, when the path leads
 * nowhere: nbconvert keeps the buffers of every state message a widget sent, and a buffer whose
 * place a later message replaced (a dict keyed by the map shown then) has nowhere to go.
 * @param {Record<string, any>} state
 * @param {(string | number)[]} path
 * @param {unknown} value
 * @returns {boolean}
 */
export function placeBuffer(state, path, value) {
  if (!path.length) return false;
  /** @type {any} */
  let obj = state;
  for (let i = 0; i < path.length - 1; i++) {
    obj = obj[path[i]];
    if (obj === null || typeof obj !== "object") return false;
  }
  obj[path[path.length - 1]] = value;
  return true;
}

/**
 * Deep equality over JSON values; binary values compare by identity. Without it a linked view
 * that echoes a value back would fire change events forever.
 * @param {unknown} a
 * @param {unknown} b
 * @returns {boolean}
 */
export function same(a, b) {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") {
    return Number.isNaN(a) && Number.isNaN(b);
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ra = /** @type {Record<string, unknown>} */ (a), rb = /** @type {Record<string, unknown>} */ (b);
  return ka.every((k) => Object.prototype.hasOwnProperty.call(rb, k) && same(ra[k], rb[k]));
}

/** One widget model of the page: its traits, its listeners, and proxies handed to each user. */
export class Model {
  /**
   * @param {string} id
   * @param {ModelSpec} spec
   * @param {ManagerFacade} manager  What `widget_manager` of the proxies resolves models with.
   */
  constructor(id, spec, manager) {
    this.id = id;
    this.spec = spec;
    this.manager = manager;
    /** @type {Record<string, any>} */
    this.attrs = Object.assign({}, spec.state || {});
    /** Buffers dropped because their place was gone (see `placeBuffer`). */
    this.dropped = 0;
    for (const buf of spec.buffers || []) {
      if (!placeBuffer(this.attrs, buf.path, decodeBase64(buf.data))) this.dropped += 1;
    }
    /** @type {Listener[]} */
    this.listeners = [];
    /** @type {Promise<any> | null} what the page host made of this model's ESM, once */
    this.binding = null;
  }

  /** @param {string} name */
  get(name) {
    return this.attrs[name];
  }

  /**
   * Change one trait, or several (`set({a: 1, b: 2})`); listeners hear of real changes only.
   * @param {string | Record<string, any>} name
   * @param {any} [value]
   */
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

  /**
   * Call the listeners of `name`; one that throws is logged and the others still run.
   * @param {string} name
   * @param {any} [value]
   * @param {DataView[]} [buffers]
   */
  emit(name, value, buffers) {
    for (const l of this.listeners.slice()) {
      if (l.name !== name) continue;
      try {
        l.callback(value, buffers);
      } catch (err) {
        console.error(`attnwidget export: a ${name} listener failed`, err);
      }
    }
  }

  /**
   * @param {string} name  One event or several separated by spaces.
   * @param {ModelListener} callback
   * @param {any} [context]  Who listens: `off(null, null, context)` removes all of theirs.
   */
  on(name, callback, context) {
    for (const n of String(name).split(/\s+/).filter(Boolean)) {
      this.listeners.push({ name: n, callback, context });
    }
  }

  /**
   * Remove the listeners matching every argument given (null or undefined matches any).
   * @param {string | null} [name]
   * @param {ModelListener | null} [callback]
   * @param {any} [context]
   */
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

  /**
   * The model as one user sees it: its listeners carry `context`, so they go when that user does.
   * @param {any} context
   * @returns {ModelProxy}
   */
  proxy(context) {
    return {
      get: (name) => this.get(name),
      set: (name, value) => this.set(name, value),
      // No kernel to sync with: the change is already visible to every view of this page.
      save_changes: () => {},
      send: () => {},
      on: (name, callback) => this.on(name, callback, context),
      off: (name, callback) => this.off(name, callback, context),
      widget_manager: this.manager,
    };
  }
}

/** Every model of one widget state, by id. */
export class Models {
  /**
   * @param {Record<string, ModelSpec>} state  Model specs by id.
   * @param {string[]} [esmTable]  ESM texts that `_esm: {attnwidget_esm: i}` points at (save_html
   *   stores the shared bundle once).
   */
  constructor(state, esmTable = []) {
    /** @type {ManagerFacade} */
    this.managerFacade = {
      get_model: async (id) => this.model(id).proxy(Symbol("widget_manager")),
    };
    /** @type {Map<string, Model>} */
    this.models = new Map();
    for (const [id, spec] of Object.entries(state)) {
      const model = new Model(id, spec, this.managerFacade);
      const esm = model.attrs._esm;
      if (esm && typeof esm === "object" && "attnwidget_esm" in esm) {
        const text = esmTable[esm.attnwidget_esm];
        if (typeof text !== "string") throw new Error(`attnwidget export: model ${id} names ESM ${esm.attnwidget_esm}, which the page does not hold`);
        model.attrs._esm = text;
      }
      this.models.set(id, model);
    }
  }

  /**
   * @param {string} id
   * @returns {Model}
   */
  model(id) {
    const model = this.models.get(id);
    if (!model) throw new Error(`attnwidget export: the page holds no widget model ${id}`);
    return model;
  }

  /**
   * Whether `id` is an anywidget model (the only kind this host draws).
   * @param {string} id
   */
  isAnywidget(id) {
    const spec = this.models.get(id)?.spec;
    return !!spec && spec.model_module === "anywidget";
  }
}

/**
 * What save_html's page script holds: `{state, esm}`.
 * @param {string} text  The text of the `application/vnd.attnwidget.page+json` script.
 * @returns {{ state: Record<string, ModelSpec>, esm: string[] }}
 */
export function readPage(text) {
  const page = JSON.parse(text);
  return { state: page?.state ?? {}, esm: page?.esm ?? [] };
}

/**
 * The models of nbconvert's embedded widget state (`{version_major, version_minor, state}`).
 * @param {string} text  The text of the `application/vnd.jupyter.widget-state+json` script.
 * @returns {Record<string, ModelSpec>}
 */
export function readWidgetState(text) {
  return JSON.parse(text)?.state ?? {};
}

/**
 * The model id a widget-view script names, or null when its text is not a view.
 * @param {string} text  The text of an `application/vnd.jupyter.widget-view+json` script.
 * @returns {string | null}
 */
export function viewModelId(text) {
  try {
    const id = JSON.parse(text)?.model_id;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/**
 * How a widget this host does not draw is named in the note left in its place.
 * @param {ModelSpec | undefined} spec
 */
export function widgetName(spec) {
  if (!spec) return "A widget";
  return `${spec.model_module || "widget"} ${(spec.model_name || "").replace(/Model$/, "")}`.trim();
}
