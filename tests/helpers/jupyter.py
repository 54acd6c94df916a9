"""Opening a notebook in the JupyterLab server of the browser tests and running every cell."""

import time

KERNEL_TIMEOUT_MS = 300_000


ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"


def open_and_run_all(pg, lab, name: str, route: str | None = None) -> None:
    """Open notebook `name` (at `route` under the server, default ``lab/tree/<name>``) and run it all."""
    pg.goto(lab.url(route or f"lab/tree/{name}"))
    pg.locator(".jp-Notebook .jp-Cell").first.wait_for()
    # A person waits for the kernel to be up (the toolbar says "idle" even before it starts, so
    # ask the server), then uses Run > Run All Cells.
    deadline = time.monotonic() + KERNEL_TIMEOUT_MS / 1000
    while not any(
        s["path"] == name and s["kernel"]["execution_state"] == "idle" and s["kernel"]["connections"]
        for s in lab.api("sessions")
    ):
        assert time.monotonic() < deadline, f"no idle kernel for {name}: {lab.api('sessions')}"
        pg.wait_for_timeout(250)
    pg.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").first.wait_for()
    pg.get_by_role("menuitem", name="Run", exact=True).click()
    pg.get_by_role("menuitem", name="Run All Cells", exact=True).click()
