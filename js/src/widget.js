// Entry point: anywidget calls render(); the view kind trait picks which view draws.
const VIEWS = {};

function render({ model, el }) {
  const kind = model.get("_view_kind");
  const view = VIEWS[kind];
  if (!view) {
    el.textContent = `attnwidget: unknown view kind ${JSON.stringify(kind)}`;
    return;
  }
  return view({ model, el });
}

export default { render };
