"""Datasets: reproducible splits, a cache that never serves a corrupted file, scalers."""

import dataclasses

import numpy as np
import pytest

from ledlib import data
from ledlib.data import MinMaxScaler, SplitSpec, StandardScaler


def tiny(system="KS", **kw):
    """A small version of a paper dataset: same generation code, fewer samples."""
    s = data.spec(system, "quick", **kw)
    splits = tuple((name, dataclasses.replace(sp, n_samples=12)) for name, sp in s.splits)
    return s.with_(splits=splits, transient=min(s.transient, 5.0))


def test_cache_hit_returns_identical_arrays_without_regenerating(tmp_path, monkeypatch):
    s = tiny("KS")
    first = data.load(s, cache=tmp_path, progress=False)

    def fail(*a, **k):
        raise AssertionError("a valid cache file must not be regenerated")

    monkeypatch.setattr(data, "generate", fail)
    second = data.load(s, cache=tmp_path, progress=False)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(first[name].states, second[name].states)
        np.testing.assert_array_equal(first[name].t, second[name].t)


@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_corrupted_cache_is_detected_and_regenerated(tmp_path, damage):
    s = tiny("KS")
    ds = data.load(s, cache=tmp_path, progress=False)
    path = ds.path
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    else:  # one flipped byte deep in the array data still loads with np.load: only the checksum sees it
        b = bytearray(raw)
        b[len(b) - 200] ^= 0xFF
        path.write_bytes(bytes(b))
    with pytest.raises(data.CacheError):
        data.read(s, tmp_path)
    with pytest.warns(RuntimeWarning, match="regenerating"):
        again = data.load(s, cache=tmp_path, progress=False)
    np.testing.assert_array_equal(again.train.states, ds.train.states)
    data.read(s, tmp_path)  # the regenerated file verifies


def test_splits_are_reproducible_and_disjoint(tmp_path):
    s = tiny("KS")
    a, b = data.generate(s, progress=False), data.generate(s, progress=False)
    for name in ("train", "val", "test"):
        np.testing.assert_array_equal(a[name].states, b[name].states)
    flat = {name: a[name].flat() for name in ("train", "val", "test")}
    for p, q in [("train", "val"), ("train", "test"), ("val", "test")]:
        d = np.linalg.norm(flat[p][:, None, :] - flat[q][None, :, :], axis=-1)
        assert d.min() > 1e-3, f"{p} and {q} share states"
    # a different seed gives a different split
    other = s.with_(splits=tuple((n, dataclasses.replace(sp, seed=sp.seed + 100)) for n, sp in s.splits))
    assert not np.allclose(data.generate_split(other, "train", progress=False).states, a.train.states)


def test_fhn_split_drops_the_transient_and_uses_the_papers_ics():
    s = tiny("FHN")
    ds = data.generate(s, progress=False)
    fhn = s.make_system()
    ics = fhn.paper_initial_conditions()
    assert ds.train.t[0, 0] == pytest.approx(s.transient)
    expected = fhn.restrict(fhn.advance(fhn.lift(ics[[0, 1, 2]]), 0.0, s.transient))
    np.testing.assert_allclose(ds.train.states[:, 0], expected, rtol=0, atol=1e-12)
    expected_test = fhn.restrict(fhn.advance(fhn.lift(ics[[5]]), 0.0, s.transient))
    np.testing.assert_allclose(ds.test.states[:, 0], expected_test, rtol=0, atol=1e-12)
    assert np.allclose(np.diff(ds.train.t, axis=1), fhn.coarse_dt)


def test_particle_dataset_keeps_absolute_times_and_stays_in_domain():
    s = tiny("AD3D", n_particles=50)
    ds = data.generate(s, progress=False)
    assert ds.train.states.dtype == np.float32
    assert np.abs(ds.train.states).max() <= 0.5
    np.testing.assert_allclose(ds.train.t[0], 0.5 * np.arange(12))


def test_spec_key_changes_with_every_parameter():
    base = data.spec("AD3D", "quick")
    keys = {
        base.key(),
        data.spec("AD3D", "paper").key(),
        data.spec("AD3D", "quick", n_particles=400).key(),
        data.spec("AD3D", "quick", D=0.02).key(),
        base.with_(transient=1.0).key(),
    }
    assert len(keys) == 5
    assert data.spec("AD3D", "quick").key() == base.key()


def test_bad_specs_raise_value_error():
    with pytest.raises(ValueError, match="system"):
        data.spec("Lorenz")
    with pytest.raises(ValueError, match="profile"):
        data.spec("KS", "huge")
    with pytest.raises(ValueError, match="n_samples"):
        SplitSpec(1, 0, seed=0)
    with pytest.raises(ValueError, match="transient"):
        data.spec("KS").with_(transient=-1.0)


# ---------------------------------------------------------------------------------
# Scalers
# ---------------------------------------------------------------------------------
@pytest.fixture
def fields():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 30, 2, 11))
    x[..., 0, :] = 3.0 + 0.1 * x[..., 0, :]  # two channels on very different scales
    x[..., 1, :] = -50.0 + 10.0 * x[..., 1, :]
    return x


def test_minmax_maps_training_data_onto_unit_interval_per_channel(fields):
    sc = MinMaxScaler(channel_axis=-2).fit(fields)
    y = sc.transform(fields)
    for c in range(2):
        assert y[..., c, :].min() == pytest.approx(0.0, abs=1e-12)
        assert y[..., c, :].max() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(sc.inverse_transform(y), fields, rtol=1e-12, atol=1e-12)


def test_standard_scaler_whitens_each_channel_and_round_trips_through_dict(fields):
    sc = StandardScaler(channel_axis=-2).fit(fields)
    y = sc.transform(fields)
    for c in range(2):
        assert y[..., c, :].mean() == pytest.approx(0.0, abs=1e-12)
        assert y[..., c, :].std() == pytest.approx(1.0, rel=1e-12)
    back = data.scaler_from_dict(sc.to_dict())
    np.testing.assert_array_equal(back.transform(fields), y)
    # statistics broadcast over any batch shape: a single state transforms the same way
    np.testing.assert_allclose(sc.transform(fields[0, 0]), y[0, 0])


def test_global_scaler_and_constant_channel():
    x = np.full((10, 4), 2.5)
    sc = StandardScaler().fit(x)
    np.testing.assert_array_equal(sc.transform(x), 0.0)
    with pytest.raises(ValueError, match="channel_axis"):
        MinMaxScaler(channel_axis=1)
    with pytest.raises(ValueError, match="finite"):
        MinMaxScaler().fit(np.array([1.0, np.nan]))
    with pytest.raises(RuntimeError, match="not fitted"):
        MinMaxScaler().transform(x)
    with pytest.raises(ValueError, match="kind"):
        data.scaler_from_dict({"kind": "robust"})


@pytest.mark.parametrize("system, kind", [("KS", "standard"), ("FHN", "standard"), ("AD1D", "minmax")])
def test_dataset_carries_the_papers_scaler_fitted_on_training_data(tmp_path, system, kind):
    s = tiny(system, **({"n_particles": 50} if system.startswith("AD") else {}))
    ds = data.load(s, cache=tmp_path, progress=False)
    assert ds.scaler.kind == kind
    y = ds.scaler.transform(ds.train.states)
    if kind == "minmax":
        assert y.min() == pytest.approx(0.0, abs=1e-6) and y.max() == pytest.approx(1.0, abs=1e-6)
    else:
        assert y.mean() == pytest.approx(0.0, abs=1e-9) and y.std() == pytest.approx(1.0, rel=1e-6)
    # fitted on the training split only, not on the others
    on_test = type(ds.scaler)(s.scaler_channel_axis).fit(ds.test.states)
    assert not np.allclose(on_test.to_dict()["b"], ds.scaler.to_dict()["b"], rtol=1e-6)
    cached = data.read(s, tmp_path)
    assert cached.scaler.to_dict() == ds.scaler.to_dict()
