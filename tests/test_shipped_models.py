"""Shipped models (models/ + manifest.json): found before the cache, checked, converted from a cache."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ledlib import configs, data, train
from ledlib.nn.led import model_files

ROOT = Path(__file__).resolve().parent.parent


def _ship_module():
    spec = importlib.util.spec_from_file_location("ship_models", ROOT / "scripts" / "ship_models.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def tiny_ks(tmp_path, monkeypatch):
    monkeypatch.setenv("LED_MODELS_DIR", str(tmp_path / "models"))
    s = data.spec("KS", "quick")
    s = s.with_(splits=tuple((n, dataclasses.replace(sp, n_samples=30)) for n, sp in s.splits), transient=5.0)
    ds = data.load(s, cache=tmp_path / "train-cache", progress=False)
    cfg = configs.get("KS", "quick")
    short = {"max_epochs": 2}
    cfg = dataclasses.replace(cfg, ae_train=dataclasses.replace(cfg.ae_train, **short),
                              rnn_train=dataclasses.replace(cfg.rnn_train, bptt=5, hidden_propagation_length=10,
                                                            **short))
    return ds, cfg


def _no_epochs(monkeypatch):
    ran = []

    def epoch(self, *args, **kwargs):
        ran.append(self.stage)
        raise AssertionError("an epoch ran")

    monkeypatch.setattr(train.EpochLoop, "_epoch", epoch)
    return ran


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_an_empty_cache_returns_the_shipped_model_without_training(tmp_path, tiny_ks, monkeypatch):
    ds, cfg = tiny_ks
    trained = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=tmp_path / "train-cache", progress=False,
                            device="cpu")
    manifest = _ship_module().ship(tmp_path / "train-cache")
    (entry,) = manifest["models"].values()
    assert entry["key"] == train.model_key(cfg, data.content_hash(ds), 0)
    assert entry["system"] == "KS" and entry["data_hash"] == data.content_hash(ds)
    assert entry["train_record"]["ae"]["epochs"] == 2 and entry["train_record"]["rnn"]["device"] == "cpu"
    assert json.loads((tmp_path / "models" / "manifest.json").read_text()) == manifest

    ran = _no_epochs(monkeypatch)
    empty = tmp_path / "empty-cache"
    got = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=empty, progress=False, device="cpu")
    assert ran == [] and got.source == "shipped" and got.from_cache
    assert got.path.parent == tmp_path / "models" and not (empty / "models").exists()
    assert _same(got.led, trained.led) and got.ae["best_val_loss"] == trained.ae["best_val_loss"]
    # another seed is another model: not shipped, so it would train
    with pytest.raises(AssertionError, match="an epoch ran"):
        train.fit(ds, cfg, cache=empty, seed=1, progress=False, device="cpu")


def test_a_damaged_shipped_model_is_warned_about_and_not_used(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    train.fit(ds, cfg, cache=tmp_path / "train-cache", progress=False, device="cpu")
    (entry,) = _ship_module().ship(tmp_path / "train-cache")["models"].values()
    weights = tmp_path / "models" / entry["file"]
    b = bytearray(weights.read_bytes())
    b[len(b) // 2] ^= 0x10
    weights.write_bytes(bytes(b))
    with pytest.warns(RuntimeWarning, match=f"shipped model file {weights}.*not using it"):
        got = train.fit(ds, cfg, cache=tmp_path / "other", progress=False, device="cpu")
    assert got.source == "trained"


def test_a_cache_of_the_earlier_format_is_converted(tmp_path, tiny_ks, monkeypatch):
    """Today's .pt + .json records (e.g. the paper-profile training job's cache) become
    portable files under the content key that fit_led computes."""
    ds, cfg = tiny_ks
    fresh = train.fit(ds, cfg, cache=tmp_path / "scratch", progress=False, device="cpu")
    legacy = tmp_path / "train-cache" / "models"
    legacy.mkdir(parents=True)
    old_key = _ship_module()._legacy_key(cfg.to_dict(), ds.spec.key(), 0)
    state = {k: v.cpu() for k, v in fresh.led.state_dict().items()}
    torch.save({"format": "ledlib.LED/1", "config": cfg.to_dict(), "state_dict": state,
                "scaler": fresh.led.scaler_dict}, legacy / f"KS-quick-{old_key}.pt")
    (legacy / f"KS-quick-{old_key}.json").write_text(json.dumps({"ae": fresh.ae, "rnn": fresh.rnn}))
    # an autoencoder-stage model of the same data
    ae_led, ae_rec = train.fit_autoencoder(cfg, ds, cache=tmp_path / "scratch", progress=False, device="cpu")
    torch.save({"format": "ledlib.LED/1", "config": cfg.to_dict(),
                "state_dict": {k: v.cpu() for k, v in ae_led.state_dict().items()}, "scaler": ae_led.scaler_dict},
               legacy / f"KS-quick-ae-{old_key}.pt")
    (legacy / f"KS-quick-ae-{old_key}.json").write_text(json.dumps(ae_rec))
    # an RNN variant on that autoencoder (a study model): stage rnn-<digest of the AE weights>
    from ledlib.configs import RNNConfig

    gru = RNNConfig("gru", d_h=8, residual=False)
    rnn_led, rnn_rec = train.fit_rnn(ae_led, gru, ds, cache=tmp_path / "scratch", progress=False, device="cpu")
    stage = next(p.name for p in (tmp_path / "scratch" / "models").glob("KS-quick-rnn-*.json")).split("-")[3]
    rnn_key = _ship_module()._legacy_key(rnn_led.config.to_dict(), ds.spec.key(), 0)
    torch.save({"format": "ledlib.LED/1", "config": rnn_led.config.to_dict(),
                "state_dict": {k: v.cpu() for k, v in rnn_led.state_dict().items()}, "scaler": rnn_led.scaler_dict},
               legacy / f"KS-quick-rnn-{stage}-{rnn_key}.pt")
    (legacy / f"KS-quick-rnn-{stage}-{rnn_key}.json").write_text(json.dumps(rnn_rec))
    before = sorted(p.name for p in legacy.iterdir())

    manifest = _ship_module().ship(tmp_path / "train-cache")
    assert sorted(p.name for p in legacy.iterdir()) == before  # the cache is only read
    assert {e["stage"] for e in manifest["models"].values()} == {"led", "ae", f"rnn-{stage}"}
    ran = _no_epochs(monkeypatch)
    got = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=tmp_path / "empty", progress=False,
                        device="cpu")
    ae_got, rec = train.fit_autoencoder(cfg, ds, cache=tmp_path / "empty", progress=False, device="cpu")
    rnn_got, _ = train.fit_rnn(ae_got, gru, ds, cache=tmp_path / "empty", progress=False, device="cpu")
    assert ran == [] and got.source == "shipped" and _same(got.led, fresh.led) and _same(ae_got, ae_led)
    assert _same(rnn_got, rnn_led)
    assert rec["best_val_loss"] == ae_rec["best_val_loss"]
    x = torch.as_tensor(np.array(ds.test.states[0, :4]))
    assert torch.equal(got.led.encode(x), fresh.led.encode(x))


def test_ship_models_refuses_a_folder_without_models(tmp_path, capsys):
    with pytest.raises(SystemExit):
        _ship_module().main(["--cache", str(tmp_path / "nothing")])
    assert "no models/ folder" in capsys.readouterr().err


def test_a_manifest_entry_pointing_outside_models_is_not_followed(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    key = train.model_key(cfg, data.content_hash(ds), 0)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "manifest.json").write_text(json.dumps(
        {"format": "ledlib.models/1", "models": {key: {"file": "../train-cache/evil.safetensors"}}}))
    with pytest.warns(RuntimeWarning, match="outside"):
        got = train.fit(ds, cfg, cache=tmp_path / "c", progress=False, device="cpu")
    assert got.source == "trained"


def test_loading_only_refuses_to_train_and_ships_exactly_what_was_loaded(tmp_path, tiny_ks, monkeypatch):
    """Inside loading_only a missing model raises NotCached before any epoch; the loads are
    recorded, and ship(only=...) ships those and not the other models of the cache."""
    ds, cfg = tiny_ks
    cache = tmp_path / "train-cache"
    wanted = train.fit(ds, cfg, cache=cache, seed=0, progress=False, device="cpu")
    train.fit(ds, cfg, cache=cache, seed=1, progress=False, device="cpu")  # an experiment, not to ship
    ran = _no_epochs(monkeypatch)
    with train.loading_only() as loads:
        again = train.fit(ds, cfg, cache=cache, seed=0, progress=False, device="cpu")
        with pytest.raises(train.NotCached, match="training is refused"):
            train.fit(ds, cfg, cache=cache, seed=2, progress=False, device="cpu")
    assert ran == [] and _same(again.led, wanted.led)
    assert [(stem.name, source) for stem, source in loads] == [(wanted.path.name.removesuffix(".safetensors"),
                                                                "cache")]
    manifest = _ship_module().ship(cache, only={stem.name for stem, _ in loads})
    assert list(manifest["models"]) == [train.model_key(cfg, data.content_hash(ds), 0)]
    with pytest.raises(AssertionError, match="an epoch ran"):  # outside it, training is allowed again
        train.fit(ds, cfg, cache=cache, seed=2, progress=False, device="cpu")
