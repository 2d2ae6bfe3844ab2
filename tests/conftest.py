"""Fixtures shared by the test modules."""

import dataclasses

import pytest
import torch

from ledlib import configs, data


@pytest.fixture
def one_thread():
    """torch on one thread for the test: the machine is shared, and one thread keeps float
    sums in a fixed order, so results are reproducible bit for bit."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture
def tiny_ks(tmp_path):
    """A KS dataset of 40 samples per trajectory and its quick configuration cut to 2 epochs
    a stage (and short RNN windows): the whole training path in seconds."""
    s = data.spec("KS", "quick")
    s = s.with_(splits=tuple((n, dataclasses.replace(sp, n_samples=40)) for n, sp in s.splits), transient=5.0)
    ds = data.load(s, cache=tmp_path, progress=False)
    cfg = configs.get("KS", "quick")
    short = {"max_epochs": 2}
    cfg = dataclasses.replace(cfg, ae_train=dataclasses.replace(cfg.ae_train, **short),
                              rnn_train=dataclasses.replace(cfg.rnn_train, bptt=5, hidden_propagation_length=10,
                                                            **short))
    return ds, cfg
