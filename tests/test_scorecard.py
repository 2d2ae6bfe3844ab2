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
