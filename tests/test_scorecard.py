"""The scorecard file the chapters write their measured claims into."""

from __future__ import annotations

import math
import multiprocessing as mp

import numpy as np
import pytest

from ledlib import scorecard


def test_record_round_trip_converts_numpy_and_non_finite(tmp_path):
    scorecard.record(tmp_path, "KS.lyapunov_exponent", np.float64(0.0478), paper=0.048, unit="1/time",
                     profile="paper", device="cpu", note="n=16")
    scorecard.record(tmp_path, "FHN.mnad", {"u": np.float32(0.5), "v": math.inf}, profile="quick", device="cuda")
    card = scorecard.load(tmp_path)
    assert card["KS.lyapunov_exponent"]["ours"] == pytest.approx(0.0478)
    assert type(card["KS.lyapunov_exponent"]["ours"]) is float
    assert card["KS.lyapunov_exponent"]["note"] == "n=16"
    assert card["FHN.mnad"]["ours"] == {"u": 0.5, "v": "inf"}
    scorecard.record(tmp_path, "FHN.mnad", 1.0, profile="paper", device="cpu")  # overwrites
    assert scorecard.load(tmp_path)["FHN.mnad"]["ours"] == 1.0


@pytest.mark.parametrize("claim", ["", "has space", 3])
def test_bad_claim_id(tmp_path, claim):
    with pytest.raises(ValueError, match="claim"):
        scorecard.record(tmp_path, claim, 1.0, profile="quick", device="cpu")


def test_bad_profile(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        scorecard.record(tmp_path, "X.y", 1.0, profile="fast", device="cpu")


def _write_many(args):
    path, tag, n = args
    for i in range(n):
        scorecard.record(path, f"{tag}.claim{i}", i, profile="quick", device="cpu")


def test_chapters_recording_side_by_side_lose_nothing(tmp_path):
    n = 40
    with mp.get_context("spawn").Pool(3) as pool:
        pool.map(_write_many, [(str(tmp_path), tag, n) for tag in ("A", "B", "C")])
    card = scorecard.load(tmp_path)
    assert len(card) == 3 * n
    assert all(card[f"{t}.claim{i}"]["ours"] == i for t in "ABC" for i in range(n))


def test_entries_name_the_commit_the_runner_started_from(tmp_path, monkeypatch):
    monkeypatch.setenv("LED_COMMIT", "abc1234-dirty")
    assert scorecard.record(tmp_path, "X.y", 1.0, profile="quick", device="cpu")["commit"] == "abc1234-dirty"
    monkeypatch.delenv("LED_COMMIT")
    head = scorecard.record(tmp_path, "X.y", 1.0, profile="quick", device="cpu")["commit"]
    assert head != "abc1234-dirty" and head


# ----------------------------------------------------------------------------- the chapter runner
# A chapter's entries land together with its notebook or not at all (issue 14, point 3).
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import execute_chapters  # noqa: E402

_CHAPTER = '''# %% [markdown]
# # A chapter
# %% tags=["parameters"]
profile = "quick"
device = "auto"
seed = 0
results_dir = "book/results"
cache_dir = ""
# %%
import os, signal, sys
from tqdm import tqdm
from ledlib import scorecard
for _ in tqdm(range(300), desc="shown if not quieted", disable=False, mininterval=0):
    pass
for _ in tqdm(range(300), desc="library default"):
    pass
print("kept output")
scorecard.record(results_dir, "KS.lyapunov_exponent", 0.5, paper=0.048, profile=profile, device="cpu")
# %%
FAULT
'''


def _chapter(tmp_path, fault: str) -> Path:
    src = tmp_path / "99_fault.py"
    src.write_text(_CHAPTER.replace("FAULT", fault))
    return src


def _params(results: Path) -> dict:
    return {"profile": "quick", "device": "cpu", "seed": 0, "results_dir": str(results), "cache_dir": "",
            "device_used": "cpu"}


@pytest.fixture
def committed(tmp_path):
    """A results folder and an executed notebook as they were before the run."""
    results = tmp_path / "results"
    scorecard.record(results, "KS.lyapunov_exponent", 0.0478, paper=0.048, profile="paper", device="cpu")
    out = tmp_path / "book" / "fault.ipynb"
    out.parent.mkdir()
    out.write_text('{"committed": true}')
    return results, out, (results / scorecard.FILENAME).read_bytes()


def test_a_failed_chapter_leaves_scorecard_and_notebook_unchanged(tmp_path, committed):
    results, out, before = committed
    with pytest.raises(Exception, match="RuntimeError"):
        execute_chapters.execute(_chapter(tmp_path, 'raise RuntimeError("late failure")'), out, _params(results))
    assert (results / scorecard.FILENAME).read_bytes() == before
    assert out.read_text() == '{"committed": true}'


def test_a_killed_runner_leaves_scorecard_and_notebook_unchanged(tmp_path, committed):
    results, out, before = committed
    # the kernel kills the runner (its parent) with SIGKILL after the chapter recorded its entry
    src = _chapter(tmp_path, "os.kill(os.getppid(), signal.SIGKILL)")
    code = (f"import sys; sys.path.insert(0, {str(ROOT / 'scripts')!r}); import execute_chapters; "
            f"execute_chapters.execute(__import__('pathlib').Path({str(src)!r}), "
            f"__import__('pathlib').Path({str(out)!r}), {_params(results)!r})")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    assert (results / scorecard.FILENAME).read_bytes() == before
    assert out.read_text() == '{"committed": true}'


def test_a_successful_chapter_lands_its_entries_and_a_quiet_notebook(tmp_path, committed, monkeypatch):
    results, out, _ = committed
    monkeypatch.setenv("LED_COMMIT", "")
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    execute_chapters.execute(_chapter(tmp_path, "x = 1"), out, _params(results))
    assert "TQDM_DISABLE" not in os.environ  # quiet inside the kernel only: a terminal keeps its bars
    card = scorecard.load(results)
    assert card["KS.lyapunov_exponent"]["ours"] == 0.5 and card["KS.lyapunov_exponent"]["profile"] == "quick"
    assert card["KS.lyapunov_exponent"]["commit"] == json.loads(out.read_text())["metadata"]["led"]["commit"]
    nb = json.loads(out.read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] for o in c.get("outputs", []))
    assert "kept output" in text
    assert "it/s" not in text and "%|" not in text, text  # both bars gone, explicit disable=False too
    for c in nb["cells"]:
        tags = c["metadata"].get("tags", [])
        if "parameters" in tags or "injected-parameters" in tags:
            assert "remove-cell" in tags
    stamp = next(c for c in nb["cells"] if "How this page was made" in "".join(c["source"]))
    assert 'profile = "quick"' in "".join(stamp["source"]) and "seed = 0" in "".join(stamp["source"])


def test_quiet_outputs_drops_only_progress_text():
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr",
                                           text="speed-up:  50%|#####     | 1/2 [00:01<00:01,  1.0s/it]\r"
                                                "speed-up: 100%|##########| 2/2 [00:02<00:00,  1.0s/it]\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="UserWarning: a real warning\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="result 3.5\n")]
    nb.cells.append(cell)
    assert execute_chapters.quiet_outputs(nb) == 2
    assert [o["text"] for o in cell.outputs] == ["UserWarning: a real warning\n", "result 3.5\n"]


def test_merge_is_atomic_and_validates(tmp_path):
    scorecard.record(tmp_path, "A.x", 1, profile="quick", device="cpu")
    card = scorecard.merge(tmp_path, {"B.y": {"ours": 2, "paper": None}})
    assert set(card) == {"A.x", "B.y"} and scorecard.load(tmp_path) == card
    with pytest.raises(TypeError, match="entries"):
        scorecard.merge(tmp_path, {"C.z": 3})


def test_tidy_brings_text_and_tags_up_to_the_source_and_keeps_every_output(tmp_path, committed, monkeypatch):
    results, out, _ = committed
    monkeypatch.setenv("LED_COMMIT", "")
    src = _chapter(tmp_path, "x = 1")
    execute_chapters.execute(src, out, _params(results))
    before = json.loads(out.read_text())
    outputs = [c.get("outputs") for c in before["cells"] if c["cell_type"] == "code"]
    # the source gains prose, a profile-only cell, and a tag; its code is unchanged
    text = src.read_text().replace("# # A chapter", "# # A chapter\n# with a new sentence")
    text = text.replace("# %%\nx = 1", '# %% [markdown] tags=["only-paper"]\n# Paper profile only.\n\n'
                                        '# %% tags=["hide-input"]\nx = 1')
    src.write_text(text)
    assert execute_chapters.tidy(src, out) == ""
    after = json.loads(out.read_text())
    assert [c.get("outputs") for c in after["cells"] if c["cell_type"] == "code"] == outputs
    md = ["".join(c["source"]) for c in after["cells"] if c["cell_type"] == "markdown"]
    assert any("with a new sentence" in m for m in md)
    only = next(c for c in after["cells"] if "Paper profile only." in "".join(c["source"]))
    assert "remove-cell" in only["metadata"]["tags"]  # executed in the quick profile
    assert "hide-input" in next(c for c in after["cells"] if "".join(c["source"]) == "x = 1")["metadata"]["tags"]
    stamp = next(m for m in md if "How this page was made" in m)
    assert "revised at commit" in stamp and 'profile = "quick"' in stamp
    assert execute_chapters.tidy(src, out) == "" and json.loads(out.read_text())["cells"] == after["cells"]
    src.write_text(text.replace("x = 1", "x = 2"))  # code changed: only an execution may update the page
    assert "code differs" in execute_chapters.tidy(src, out)
    assert json.loads(out.read_text())["cells"] == after["cells"]
