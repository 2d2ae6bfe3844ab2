"""fit_led: the cached train-once pipeline that chapters call."""

import dataclasses

import numpy as np
import pytest
import torch

from ledlib import configs, data, train


@pytest.fixture
def tiny_ks(tmp_path):
    s = data.spec("KS", "quick")
    s = s.with_(splits=tuple((n, dataclasses.replace(sp, n_samples=40)) for n, sp in s.splits), transient=5.0)
    ds = data.load(s, cache=tmp_path, progress=False)
    cfg = configs.get("KS", "quick")
    short = {"max_epochs": 2}
    cfg = dataclasses.replace(cfg, ae_train=dataclasses.replace(cfg.ae_train, **short),
                              rnn_train=dataclasses.replace(cfg.rnn_train, bptt=5, hidden_propagation_length=10,
                                                            **short))
    return ds, cfg


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
    keys = {train.model_key(cfg, ds.spec.key(), 0), train.model_key(cfg, ds.spec.key(), 1),
            train.model_key(dataclasses.replace(cfg, ae=dataclasses.replace(cfg.ae, d_z=4)), ds.spec.key(), 0)}
    assert len(keys) == 3
