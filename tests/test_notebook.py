"""docs/notebooks/policy_question.ipynb executes from top to bottom (nbclient), so it cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="needs the dev extra: nbformat")
nbclient = pytest.importorskip("nbclient", reason="needs the dev extra: nbclient")
pytest.importorskip("ipykernel", reason="needs the dev extra: ipykernel")
pytest.importorskip("pyabc", reason="the notebook calibrates with pyabc")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "policy_question.ipynb"


def _kernel_name() -> str:
    """The venv's own python3 kernel: ipykernel's native spec runs sys.executable, so no
    kernel has to be installed or registered."""
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager

    ksm = KernelSpecManager()
    if NATIVE_KERNEL_NAME not in ksm.find_kernel_specs():
        pytest.skip(f"no {NATIVE_KERNEL_NAME!r} kernel spec (pip install ipykernel)")
    return NATIVE_KERNEL_NAME


def test_policy_question_notebook_executes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        kernel_name=_kernel_name(),
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    text = "\n".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "calibrated: tax raises links formed by" in text
    assert "one parameter point" in text
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
