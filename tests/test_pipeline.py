"""fit_led: the cached train-once pipeline that chapters call."""

import dataclasses

import numpy as np
import pytest
import torch

from ledlib import data, train


def test_fit_led_trains_once_then_loads_the_same_model(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    first = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=tmp_path, progress=False, device="cpu")
    assert not first.from_cache and first.path.exists()
    assert first.ae["epochs_run"] == 2 and np.isfinite(first.rnn["best_val_loss"])
    again = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=tmp_path, progress=False, device="cpu")
    assert again.from_cache
    x = torch.as_tensor(ds.test.states[0, :5])
    torch.testing.assert_close(first.led.encode(x), again.led.encode(x), rtol=0, atol=0)
    # the scaler travels with the model: encoding physical units equals encoding scaled ones
    torch.testing.assert_close(again.led.encode(x),
                               again.led.encode(torch.as_tensor(ds.scaler.transform(x.numpy())), scaled=True))


def test_a_different_seed_or_config_is_a_different_model(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    h = data.content_hash(ds)
    keys = {train.model_key(cfg, h, 0), train.model_key(cfg, h, 1),
            train.model_key(dataclasses.replace(cfg, ae=dataclasses.replace(cfg.ae, d_z=4)), h, 0)}
    assert len(keys) == 3


def test_initial_weights_depend_on_the_seed_only(tmp_path, tiny_ks):
    ds, cfg = tiny_ks
    torch.manual_seed(123)  # whatever ran before must not matter
    a, _ = train.fit_autoencoder(cfg, ds, cache=tmp_path / "a", seed=0, progress=False, device="cpu")
    torch.manual_seed(456)
    b, _ = train.fit_autoencoder(cfg, ds, cache=tmp_path / "b", seed=0, progress=False, device="cpu")
    for (k, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=k)


def test_fit_rnn_keeps_the_autoencoder_and_is_cached(tmp_path, tiny_ks):
    from ledlib.configs import RNNConfig

    ds, cfg = tiny_ks
    led, _ = train.fit_autoencoder(cfg, ds, cache=tmp_path, seed=0, progress=False, device="cpu")
    gru = RNNConfig("gru", d_h=8, residual=False)
    other, record = train.fit_rnn(led, gru, ds, cache=tmp_path, seed=0, progress=False, device="cpu")
    assert other.config.rnn == gru and np.isfinite(record["best_val_loss"])
    x = torch.as_tensor(ds.test.states[0, :4])
    torch.testing.assert_close(other.encode(x), led.encode(x), rtol=0, atol=0)
    again, _ = train.fit_rnn(led, gru, ds, cache=tmp_path, seed=0, progress=False, device="cpu")
    z = other.encode(x)
    torch.testing.assert_close(again.step(z)[0], other.step(z)[0], rtol=0, atol=0)


def test_a_second_caller_waits_for_a_training_in_progress_and_then_loads_it(tmp_path, tiny_ks):
    """Two processes asking for the same model (a chapter and scripts/pretrain.py) must not
    both train it into the same checkpoints: the second waits on the lock, then loads."""
    import shutil
    import threading

    ds, cfg = tiny_ks
    from ledlib.nn.led import model_files

    stem, _ = train._cache_paths(tmp_path, cfg, data.content_hash(ds), 0, "")
    second = {}
    waiter = threading.Thread(target=lambda: second.setdefault(
        "fit", train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=tmp_path, progress=False, device="cpu")))
    with data.file_lock(stem.with_name(f".{stem.name}.lock")):  # a training in progress
        waiter.start()
        waiter.join(timeout=1.0)
        assert waiter.is_alive(), "the second caller did not wait for the lock"
        done = train.fit_led("KS", "quick", config=cfg, dataset=ds, cache=tmp_path / "elsewhere", progress=False,
                             device="cpu")
        for src, dst in zip(model_files(done.path), model_files(stem)):
            shutil.copy(src, dst)
    waiter.join(timeout=60)
    assert not waiter.is_alive() and second["fit"].from_cache
    x = torch.as_tensor(ds.test.states[0, :5])
    torch.testing.assert_close(second["fit"].led.encode(x), done.led.encode(x), rtol=0, atol=0)
