"""The reproduction scorecard: measured claims written by the chapters.

Each chapter records the numbers it measured under a claim ID of REPRODUCTION.md into
``<results_dir>/scorecard.json`` (``{"KS.lyapunov_exponent": {"paper": 0.048, "ours": ...,
"unit": ..., "profile": ..., "device": ..., "commit": ..., "figure": ...}}``). Numbers in
the book are never typed in: they come from here.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path

from .data import atomic_write, file_lock

FILENAME = "scorecard.json"


def _commit() -> str:
    """The commit of the code that measured: ``$LED_COMMIT`` where the chapter runner set it
    (the commit a long execution started from), else the checkout's HEAD now."""
    if os.environ.get("LED_COMMIT"):
        return os.environ["LED_COMMIT"]
    root = Path(__file__).resolve().parent.parent
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _plain(v):
    """JSON-safe value: numpy scalars to Python, dicts (e.g. Pe -> value) recursively."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if hasattr(v, "item"):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


@contextmanager
def _locked(results_dir: Path):
    """Serialise read-modify-write of the scorecard: chapters may execute side by side."""
    with file_lock(results_dir / f".{FILENAME}.lock"):
        yield


def load(results_dir) -> dict:
    path = Path(results_dir) / FILENAME
    if not path.exists():
        return {}
    return json.loads(path.read_text())


def merge(results_dir, entries: dict) -> dict:
    """Put ``entries`` (claim ID -> entry, as :func:`record` writes them) into the scorecard
    of ``results_dir`` in one atomic write; returns the merged scorecard.

    The chapter runner records a chapter's claims into a staging folder while it executes
    and merges them here only when the execution succeeded, so a chapter's entries land
    together with its notebook or not at all."""
    if not isinstance(entries, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in entries.items()):
        raise TypeError(f"entries must be a dict of claim ID -> entry dict, got {type(entries).__name__}")
    results_dir = Path(results_dir)
    with _locked(results_dir):
        card = load(results_dir)
        card.update(entries)
        atomic_write(results_dir / FILENAME,
                     lambda tmp: Path(tmp).write_text(json.dumps(card, indent=1, sort_keys=True) + "\n"))
    return card


def record(results_dir, claim: str, ours, *, paper=None, unit: str = "", figure: str = "",
           profile: str, device: str, note: str = "") -> dict:
    """Write (or overwrite) one claim in the scorecard, atomically; returns the entry."""
    if not isinstance(claim, str) or not claim or any(c.isspace() for c in claim):
        raise ValueError(f"claim must be an ID like 'KS.lyapunov_exponent' or 'T7', got {claim!r}")
    if profile not in ("quick", "paper"):
        raise ValueError(f"profile must be 'quick' or 'paper', got {profile!r}")
    entry = {"paper": _plain(paper), "ours": _plain(ours), "unit": unit, "profile": profile,
             "device": device, "commit": _commit(), "figure": figure}
    if note:
        entry["note"] = note
    results_dir = Path(results_dir)
    with _locked(results_dir):
        card = load(results_dir)
        card[claim] = entry
        atomic_write(results_dir / FILENAME,
                     lambda tmp: Path(tmp).write_text(json.dumps(card, indent=1, sort_keys=True) + "\n"))
    return entry
