"""Runs a notebook in a fresh kernel (nbclient) and hands back its text and outputs."""

from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run_notebook(name: str, tmp_path) -> tuple[str, list]:
    """Execute a notebook; return its printed and displayed text and its cells (with outputs)."""
    nbformat = pytest.importorskip("nbformat")
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.get("output_type") != "error", f"{name}: {out.get('ename')}: {out.get('evalue')}"
            if out.get("output_type") == "stream" and out.get("name") == "stdout":
                text.append(out["text"])
            elif out.get("output_type") == "execute_result":
                text.append(out["data"].get("text/plain", "") + "\n")
    return "".join(text), nb.cells
