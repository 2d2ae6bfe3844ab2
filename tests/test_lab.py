"""`make lab` as a reader meets it: a server, a chapter served as a notebook, a kernel that runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_lab_serves_a_chapter_as_a_notebook_and_runs_its_first_cells():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_lab.py"), "01_theory", "--max-cells", "3"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "notebooks/01_theory.py: served as a notebook" in out.stdout and "format percent" in out.stdout
    # a save through jupytext writes the chapter's text back (up to JSON escapes of captions)
    assert "saved back through jupytext: identical text" in out.stdout or \
        "saved back through jupytext: the same" in out.stdout
    assert f"('{ROOT}', '" in out.stdout  # the kernel's cwd is the repository root
    assert "3 of " in out.stdout
    assert "default viewer of .py files: Jupytext Notebook" in out.stdout  # a double click opens a notebook
