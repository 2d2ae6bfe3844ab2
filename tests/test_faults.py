"""Fault tests (issue 14): one flipped byte ANYWHERE in each kind of cached file is either
detected (the reader's own error, naming the file) or leaves the content it returns exactly
the original (a flip inside JSON whitespace can be harmless). Hypothesis picks the byte and
the bit pattern (the training record lives in the model sidecar, so the sidecar sweep
covers it); the "long" profile (HYPOTHESIS_PROFILE=long) sweeps many more positions.

Scenarios covered elsewhere and not repeated here: one flipped byte or a truncation at a
fixed place in a dataset (test_data.py::test_corrupted_cache_is_detected_and_regenerated),
an edited metadata field (test_data.py::test_edited_metadata_is_detected), damaged model
files of seven kinds and a damaged cached model or record rebuilt
(test_model_files.py::test_a_damaged_model_file_is_refused_naming_the_file,
::test_a_damaged_cached_model_is_reported_and_rebuilt), a flipped checkpoint set aside and
training resumed (::test_a_flipped_byte_in_a_checkpoint_is_set_aside_...), kills during a
checkpoint write (::test_a_kill_during_a_checkpoint_write_leaves_a_resumable_state,
::test_a_process_killed_during_a_checkpoint_write_resumes_bit_exactly), a full disk
(::test_a_full_disk_during_a_checkpoint_write_names_the_file_and_leaves_no_temporary), a
killed chapter (test_scorecard.py::test_a_killed_runner_leaves_scorecard_and_notebook_unchanged),
leftover temporaries and locks (test_data.py::test_leftovers_of_a_killed_write_...,
::test_file_lock_is_exclusive_and_removed_on_release)."""

import dataclasses
import os
import shutil

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledlib import configs, data, train
from ledlib.nn import LED
from ledlib.nn.led import ModelFileError, model_files

settings.register_profile("ci", max_examples=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

position = st.floats(0.0, 1.0)  # where in the file, as a fraction of its length
mask = st.integers(1, 255)      # which bits flip


class _Case(tuple):
    """A fixture's tuple with a short repr (Hypothesis prints its arguments on failure)."""

    def __repr__(self):
        return f"<fixture of {len(self)} items>"


def _flip(path, at: float, bits: int) -> None:
    b = bytearray(path.read_bytes())
    b[int(at * (len(b) - 1))] ^= bits
    path.write_bytes(bytes(b))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    s = data.spec("KS", "quick")
    s = s.with_(splits=tuple((n, dataclasses.replace(sp, n_samples=6)) for n, sp in s.splits), transient=1.0)
    root = tmp_path_factory.mktemp("data")
    ds = data.load(s, cache=root, progress=False)
    meta = ds.path.with_suffix(".json")
    return _Case((s, root, ds, {p: p.read_bytes() for p in (ds.path, meta)}))


@pytest.mark.parametrize("which", ["npz", "json"])
@given(at=position, bits=mask)
def test_a_flipped_byte_in_a_cached_dataset_is_detected(dataset, which, at, bits):
    s, root, ds, pristine = dataset
    for p, raw in pristine.items():
        p.write_bytes(raw)
    path = ds.path if which == "npz" else ds.path.with_suffix(".json")
    _flip(path, at, bits)
    try:
        got = data.read(s, root)
    except data.CacheError as err:
        assert path.name in str(err) or ds.path.stem in str(err)
        return
    # not detected: then nothing the reader returns may differ
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(got, name).states, getattr(ds, name).states)
    assert got.coarse_dt == ds.coarse_dt and got.content_hash == ds.content_hash


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(3)
    cfg = configs.get("KS", "quick")
    rng = np.random.default_rng(0)
    led = LED(cfg, scaler=data.StandardScaler().fit(rng.normal(size=(20, 64))))
    led.data_hash, led.train_record = "abc", {"ae": {"epochs_run": 3, "best_val_loss": 0.25}}
    root = tmp_path_factory.mktemp("model")
    weights, sidecar = model_files(led.save(root / "m"))
    return _Case((root, led, {p: p.read_bytes() for p in (weights, sidecar)}))


@pytest.mark.parametrize("which", [0, 1], ids=["weights", "sidecar"])
@given(at=position, bits=mask)
def test_a_flipped_byte_in_a_model_file_is_detected(model, which, at, bits):
    root, led, pristine = model
    for p, raw in pristine.items():
        p.write_bytes(raw)
    path = list(pristine)[which]
    _flip(path, at, bits)
    try:
        got = LED.load(root / "m")
    except ModelFileError as err:
        assert str(path) in str(err)
        return
    for a, b in zip(led.state_dict().values(), got.state_dict().values()):
        assert torch.equal(a, b)
    assert got.train_record == led.train_record and got.data_hash == led.data_hash


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    d = tmp_path_factory.mktemp("ck")
    obj = {"epoch": 4, "w": torch.arange(200, dtype=torch.float32), "history": {"val_loss": [0.5, 0.25]}}
    train.save_checkpoint(obj, d / "last.pt")
    return _Case((d, obj, {p: p.read_bytes() for p in d.iterdir()}))


@pytest.mark.parametrize("which", ["last.pt", "checkpoints.json"])
@given(at=position, bits=mask)
def test_a_flipped_byte_in_a_checkpoint_or_its_index_is_detected(checkpoint, which, at, bits):
    d, obj, pristine = checkpoint
    assert (d / which) in pristine  # the index really is that file
    for p, raw in pristine.items():
        p.write_bytes(raw)
    _flip(d / which, at, bits)
    try:
        got = train.load_checkpoint(d / "last.pt")
    except train.CheckpointError as err:
        assert "last.pt" in str(err)
        return
    assert got["epoch"] == obj["epoch"] and torch.equal(got["w"], obj["w"]) and got["history"] == obj["history"]


def test_a_dataset_whose_files_are_swapped_is_not_served(tmp_path):
    # two valid cache entries, each with its own checksum: exchanging the npz files must not
    # serve one spec's data under the other's name
    base = data.spec("KS", "quick")
    small = tuple((n, dataclasses.replace(sp, n_samples=6)) for n, sp in base.splits)
    s1 = base.with_(splits=small, transient=1.0)
    s2 = base.with_(splits=small, transient=2.0)
    d1, d2 = data.load(s1, cache=tmp_path, progress=False), data.load(s2, cache=tmp_path, progress=False)
    tmp = tmp_path / "swap"
    shutil.move(d1.path, tmp)
    shutil.move(d2.path, d1.path)
    shutil.move(tmp, d2.path)
    for s in (s1, s2):
        with pytest.raises(data.CacheError):
            data.read(s, tmp_path)
