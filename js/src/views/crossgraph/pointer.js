// @ts-check
// Hover and click on the graph's nodes. A node names one token: hovering a target node leaves no
// source token hovered, and back.

/**
 * @param {SVGElement} root
 * @param {{ get: (name: string) => any, set: (values: object, opts?: { immediate?: boolean }) => void }} sel
 * @param {AbortSignal} signal
 */
export function wireNodes(root, sel, signal) {
  /** @param {Event} ev @returns {["query" | "token", number] | null} */
  const nodeAt = (ev) => {
    const target = /** @type {Element} */ (ev.target);
    const q = target.closest?.("[data-query-index]"), k = target.closest?.("[data-token-index]");
    if (q) return ["query", Number(q.getAttribute("data-query-index"))];
    return k ? ["token", Number(k.getAttribute("data-token-index"))] : null;
  };
  root.addEventListener("mouseover", (ev) => {
    const n = nodeAt(ev);
    if (n) sel.set(n[0] === "query" ? { hovered_query: n[1], hovered_token: null } : { hovered_token: n[1], hovered_query: null });
  }, { signal });
  root.addEventListener("mouseleave", () => sel.set({ hovered_token: null, hovered_query: null }), { signal });
  root.addEventListener("click", (ev) => {
    const n = nodeAt(ev);
    if (!n) return;
    const field = `pinned_${n[0]}`;
    sel.set({ [field]: sel.get(field) === n[1] ? null : n[1] }, { immediate: true });
  }, { signal });
}
