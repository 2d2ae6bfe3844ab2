"""Portable model files, checkpoints and cache entries: checksummed, atomic, never trusted when damaged."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ledlib import configs, data, train
from ledlib.configs import AutoencoderConfig, TrainConfig
from ledlib.nn import LED, ModelFileError, build_autoencoder
from ledlib.nn.led import model_files


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("LED_MODELS_DIR", str(tmp_path / "no-shipped-models"))
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _led(seed=1):
    cfg = configs.get("FHN", "quick")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2, 101))
    torch.manual_seed(seed)
    led = LED(cfg, scaler=data.StandardScaler(channel_axis=-2).fit(x))
    led.rnn.set_normalization(torch.linspace(-1, 1, cfg.d_z), torch.linspace(0.5, 2, cfg.d_z))
    return led, x


def _flip(path: Path, at: float = 0.5) -> None:
    b = bytearray(path.read_bytes())
    b[int(at * (len(b) - 1))] ^= 0x01
    path.write_bytes(bytes(b))


# ---------------------------------------------------------------------------------
# LED.save / LED.load
# ---------------------------------------------------------------------------------
def test_save_load_is_bit_exact_and_writes_a_stem_pair(tmp_path):
    led, x = _led()
    led.data_hash, led.train_record = "abc", {"ae": {"epochs_run": 3}}
    weights = led.save(tmp_path / "m")
    assert weights == tmp_path / "m.safetensors" and (tmp_path / "m.json").exists()
    info = json.loads((tmp_path / "m.json").read_text())
    assert info["config"] == led.config.to_dict() and info["data_hash"] == "abc"
    assert info["versions"]["torch"] == torch.__version__ and info["train_record"] == {"ae": {"epochs_run": 3}}
    for p in (tmp_path / "m", tmp_path / "m.safetensors", tmp_path / "m.json"):  # any of the three names
        back = LED.load(p)
        for (k, a), b in zip(led.state_dict().items(), back.state_dict().values()):
            assert torch.equal(a, b), k
    assert back.data_hash == "abc" and back.scaler_dict == led.scaler_dict
    xt = torch.as_tensor(x[:3])
    assert torch.equal(back.encode(xt), led.encode(xt))
    # mode 0644 like the data files
    assert (os.stat(weights).st_mode & 0o777) == 0o644


def test_load_needs_no_cache(tmp_path):
    """A fresh interpreter with an unusable cache directory loads the file alone."""
    led, x = _led()
    led.save(tmp_path / "m")
    np.save(tmp_path / "x.npy", x[:2])
    ref = led.encode(torch.as_tensor(x[:2])).numpy()
    np.save(tmp_path / "ref.npy", ref)
    code = ("import numpy as np, torch; torch.set_num_threads(1); from ledlib.nn import LED; "
            f"led = LED.load({str(tmp_path / 'm')!r}); "
            f"z = led.encode(torch.as_tensor(np.load({str(tmp_path / 'x.npy')!r}))).numpy(); "
            f"assert np.array_equal(z, np.load({str(tmp_path / 'ref.npy')!r}))")
    env = {**os.environ, "LED_CACHE_DIR": str(tmp_path / "missing" / "cache"),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path)
    assert not (tmp_path / "missing").exists()


@pytest.mark.parametrize("damage", ["flip-weights", "truncate-weights", "garbage-weights", "flip-json",
                                    "edit-json", "truncate-json", "missing-weights"])
def test_a_damaged_model_file_is_refused_naming_the_file(tmp_path, damage):
    led, _ = _led()
    weights, sidecar = model_files(led.save(tmp_path / "m"))
    if damage == "flip-weights":
        _flip(weights)
    elif damage == "truncate-weights":
        weights.write_bytes(weights.read_bytes()[:-100])
    elif damage == "garbage-weights":
        weights.write_bytes(os.urandom(weights.stat().st_size))
    elif damage == "flip-json":
        _flip(sidecar, 0.3)
    elif damage == "edit-json":  # a plausible edit: another width in the config
        info = json.loads(sidecar.read_text())
        info["scaler"] = None
        sidecar.write_text(json.dumps(info))
    elif damage == "truncate-json":
        sidecar.write_text(sidecar.read_text()[:50])
    else:
        weights.unlink()
    with pytest.raises(ModelFileError) as err:
        LED.load(tmp_path / "m")
    assert isinstance(err.value, ValueError)
    bad = sidecar if "json" in damage else weights
    assert str(bad) in str(err.value) and err.value.path == str(bad)


def test_an_interrupted_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    import ledlib.nn.led as led_mod

    first, _ = _led(seed=1)
    first.save(tmp_path / "m")
    before = (tmp_path / "m.safetensors").read_bytes()
    second, _ = _led(seed=2)
    real = os.fsync

    def killed(fd):
        raise KeyboardInterrupt  # a kill after the bytes, before the rename

    monkeypatch.setattr(led_mod.os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "m")
    monkeypatch.setattr(led_mod.os, "fsync", real)
    assert (tmp_path / "m.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.safetensors"]  # no temp file left
    back = LED.load(tmp_path / "m")
    assert torch.equal(back.rnn.readout.weight, first.rnn.readout.weight)


# ---------------------------------------------------------------------------------
# checkpoints
# ---------------------------------------------------------------------------------
def _field_data(n, seed):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, (n, 1))
    return (np.sin(t + np.linspace(0, np.pi, 12)[None]) + 0.05 * rng.normal(size=(n, 12))).astype(np.float32)


_CFG = TrainConfig(max_epochs=6, batch_size=16, noise_level=0.1, patience=50)
_AE = AutoencoderConfig((12,), d_z=2, n_layers=2, width=16, variational=True)


def _train(ckdir, callback=None, resume=False):
    torch.manual_seed(0)
    ae = build_autoencoder(_AE)
    res = train.train_autoencoder(ae, _field_data(80, 0), _field_data(30, 1), _CFG, ckdir, seed=3, progress=False,
                                  device="cpu", resume=resume, callback=callback)
    return ae, res


class _Stop(Exception):
    pass


def _stop_after(k):
    def cb(epoch, history):
        if epoch == k:
            raise _Stop
    return cb


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("full"))


@pytest.mark.parametrize("which", ["last", "both"])
def test_a_flipped_byte_in_a_checkpoint_is_set_aside_and_training_resumes_from_a_good_state(
        tmp_path, uninterrupted, which):
    full, r_full = uninterrupted
    with pytest.raises(_Stop):
        _train(tmp_path, _stop_after(3))
    _flip(tmp_path / "last.pt")
    if which == "both":
        _flip(tmp_path / "prev.pt")
    with pytest.warns(RuntimeWarning, match="pt does not match its recorded checksum") as caught:
        again, r = _train(tmp_path, resume=True)
    assert "last.pt does not match" in str(caught[0].message)
    assert (tmp_path / "last.pt.damaged-0").exists()
    if which == "both":
        assert (tmp_path / "prev.pt.damaged-0").exists()
    # resumed from epoch 2 (prev.pt) or from scratch: either way the uninterrupted result, bit for bit
    assert _same(again, full) and r.history["val_loss"] == r_full.history["val_loss"]
    with pytest.raises(train.CheckpointError, match="damaged"):
        train.load_checkpoint(tmp_path / "last.pt.damaged-0")


def test_a_checkpoint_rewritten_without_its_checksum_is_not_trusted(tmp_path):
    with pytest.raises(_Stop):
        _train(tmp_path, _stop_after(2))
    ck = torch.load(tmp_path / "last.pt", weights_only=True)
    ck["model"] = {k: v + 1 for k, v in ck["model"].items()}
    torch.save(ck, tmp_path / "last.pt")  # a well-formed file the index does not know
    with pytest.raises(train.CheckpointError, match="recorded checksum"):
        train.load_checkpoint(tmp_path / "last.pt")


@pytest.mark.parametrize("stage", ["torn-tmp", "after-index", "after-prev"])
def test_a_kill_during_a_checkpoint_write_leaves_a_resumable_state(tmp_path, uninterrupted, monkeypatch, stage):
    """Kill points inside save_checkpoint of epoch 3's last.pt: half the bytes written to the
    temporary file; after the index is updated; after the old last.pt became prev.pt."""
    full, r_full = uninterrupted
    calls = {"n": 0}
    real_write, real_replace = train._write_checkpoint_bytes, os.replace

    def torn(f, blob):
        calls["n"] += 1
        if calls["n"] == 8 and stage == "torn-tmp":  # a few epochs in (best.pt and last.pt both count)
            f.write(blob[: len(blob) // 2])
            raise _Stop
        real_write(f, blob)

    def replace(src, dst):
        real_replace(src, dst)
        if calls["n"] >= 8 and stage == "after-prev" and str(dst).endswith("prev.pt"):
            raise _Stop

    def index_written(path, blob):
        from ledlib.nn.led import atomic_write_bytes
        atomic_write_bytes(path, blob)
        if calls["n"] >= 8 and stage == "after-index" and str(path).endswith("checkpoints.json"):
            raise _Stop

    monkeypatch.setattr(train, "_write_checkpoint_bytes", torn)
    monkeypatch.setattr(train.os, "replace", replace)
    monkeypatch.setattr(train, "atomic_write_bytes", index_written)
    if stage == "torn-tmp":  # a kill -9 runs no cleanup: the torn temporary file stays
        monkeypatch.setattr(train.os, "remove", lambda path: None)
    with pytest.raises(_Stop):
        _train(tmp_path)
    monkeypatch.undo()
    assert bool(list(tmp_path.glob(".*.tmp"))) == (stage == "torn-tmp")
    again, r = _train(tmp_path, resume=True)
    assert not list(tmp_path.glob(".*.tmp")), "the resumed training did not clean the leftover"
    assert _same(again, full) and r.history["val_loss"] == r_full.history["val_loss"]
    assert r.history["epoch"] == list(range(6))


# ---------------------------------------------------------------------------------
# cache entries: content keys, names, damage
# ---------------------------------------------------------------------------------
@pytest.fixture
def tiny_ks(tmp_path):
    s = data.spec("KS", "quick")
    s = s.with_(splits=tuple((n, dataclasses.replace(sp, n_samples=30)) for n, sp in s.splits), transient=5.0)
    ds = data.load(s, cache=tmp_path / "cache", progress=False)
    cfg = configs.get("KS", "quick")
    short = {"max_epochs": 2}
    cfg = dataclasses.replace(cfg, ae_train=dataclasses.replace(cfg.ae_train, **short),
                              rnn_train=dataclasses.replace(cfg.rnn_train, bptt=5, hidden_propagation_length=10,
                                                            **short))
    return ds, cfg


def test_a_damaged_cached_model_is_reported_and_rebuilt(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    cache = tmp_path / "cache"
    first = train.fit(ds, cfg, cache=cache, progress=False, device="cpu")
    assert first.source == "trained"
    for damaged in ("weights", "record"):
        weights, sidecar = model_files(first.path)
        if damaged == "weights":
            _flip(weights)
        else:  # an edited training record is outside no checksum
            info = json.loads(sidecar.read_text())
            info["train_record"]["record"]["ae"]["best_val_loss"] = 0.0
            sidecar.write_text(json.dumps(info))
        with pytest.warns(RuntimeWarning, match=f"damaged cache entry.*{weights.stem}"):
            again = train.fit(ds, cfg, cache=cache, progress=False, device="cpu")
        assert again.source == "trained"  # rebuilt (resumed from the finished checkpoints), not loaded
        assert _same(again.led, first.led) and again.ae["best_val_loss"] == first.ae["best_val_loss"]
        assert train.fit(ds, cfg, cache=cache, progress=False, device="cpu").source == "cache"


def test_regenerated_data_under_the_same_spec_is_a_new_model(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    other = data.Dataset(ds.spec, ds.coarse_dt, splits={k: data.Split(v.states + 1e-3, v.t)
                                                        for k, v in ds.splits.items()}, scaler=ds.scaler)
    a, _ = train._cache_paths(tmp_path, cfg, data.content_hash(ds), 0, "")
    b, _ = train._cache_paths(tmp_path, cfg, data.content_hash(other), 0, "")
    assert a != b and a.name.split("-")[-1] != b.name.split("-")[-1]


@pytest.mark.parametrize("name", ["../../escaped_model", "/etc/passwd", "a/../../b", "..", "x\x00y"])
def test_a_name_never_forms_a_path_outside_the_cache(tmp_path, tiny_ks, name):
    ds, cfg = tiny_ks
    # configs refuse such names themselves; the cache layer must hold even if one gets through
    bad = dataclasses.replace(cfg)
    object.__setattr__(bad, "system" if name != ".." else "profile", name)
    root = (tmp_path / "cache").resolve()
    stem, ck = train._cache_paths(tmp_path / "cache", bad, data.content_hash(ds), 0, "ae")
    for p in (stem, ck):
        assert p.resolve().parent == root / "models" and "/" not in p.name and not p.name.startswith(".")


def test_fit_refuses_what_is_not_a_dataset_or_a_config(tiny_ks):
    ds, cfg = tiny_ks
    with pytest.raises(TypeError, match="dataset must be a ledlib.data.Dataset"):
        train.fit(None, cfg)
    with pytest.raises(TypeError, match="config must be a ledlib.configs.LEDConfig"):
        train.fit(ds, cfg.ae_train)
    with pytest.raises((TypeError, ValueError), match="seed"):
        train.fit(ds, cfg, seed=-1)


_KILLED_CHILD = r"""
import os, signal, sys
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, {tests!r})
import test_model_files as T
from ledlib import train

def arm(epoch, history):
    if epoch == 2:  # the next checkpoint write dies half-way, as a kill -9 would
        def torn(f, blob):
            f.write(blob[: len(blob) // 2]); f.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        train._write_checkpoint_bytes = torn

T._train({ckdir!r}, callback=arm)
"""


def test_a_process_killed_during_a_checkpoint_write_resumes_bit_exactly(tmp_path, uninterrupted):
    full, r_full = uninterrupted
    code = _KILLED_CHILD.format(tests=str(Path(__file__).resolve().parent), ckdir=str(tmp_path))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr[-2000:]
    assert list(tmp_path.glob(".*.tmp")), "the kill should have left the torn temporary file"
    again, r = _train(tmp_path, resume=True)
    assert not list(tmp_path.glob(".*.tmp"))
    assert _same(again, full) and r.history["val_loss"] == r_full.history["val_loss"]


def test_a_full_disk_during_a_checkpoint_write_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    import errno

    with pytest.raises(_Stop):
        _train(tmp_path, _stop_after(1))
    before = (tmp_path / "last.pt").read_bytes()

    def full(f, blob):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train, "_write_checkpoint_bytes", full)
    with pytest.raises(OSError, match=r"cannot write the checkpoint .*last.pt: No space left") as err:
        train.save_checkpoint({"x": 1}, tmp_path / "last.pt")
    assert err.value.errno == errno.ENOSPC
    assert (tmp_path / "last.pt").read_bytes() == before and not list(tmp_path.glob(".*.tmp"))
    assert train.load_checkpoint(tmp_path / "last.pt")["epoch"] == 1  # still the good one


def test_after_a_kill_between_index_and_rename_the_next_epochs_keep_a_good_prev(tmp_path, uninterrupted,
                                                                                monkeypatch):
    """Killed after the index named the new file but before it was renamed into place;
    resumed; then last.pt is damaged: prev.pt (the epoch before) must still be good."""
    full, _ = uninterrupted
    calls = {"n": 0}
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith("last.pt") and str(src).endswith(".tmp"):
            calls["n"] += 1
            if calls["n"] == 3:
                raise _Stop
        real_replace(src, dst)

    monkeypatch.setattr(train.os, "replace", replace)
    with pytest.raises(_Stop):
        _train(tmp_path)
    monkeypatch.undo()
    with pytest.raises(_Stop):  # one epoch after the resume: its save moved epoch 1 to prev.pt
        _train(tmp_path, _stop_after(2), resume=True)
    assert train.load_checkpoint(tmp_path / "prev.pt")["epoch"] == 1
    _flip(tmp_path / "last.pt")
    with pytest.warns(RuntimeWarning, match="last.pt does not match"):
        again, _ = _train(tmp_path, resume=True)
    assert _same(again, full)
