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


# ---------------------------------------------------------------------------------
# Any System: generate, from_arrays, content_hash
# ---------------------------------------------------------------------------------
from ledlib import systems  # noqa: E402


class OU(systems.System):
    """Ornstein-Uhlenbeck dx = -theta x dt + sigma dW, Euler-Maruyama, per component."""

    name = "ou"
    stochastic = True

    def __init__(self, theta=1.0, sigma=0.5, dt=0.01, coarse_dt=0.1, d=2):
        self.theta, self.sigma, self.dt, self.coarse_dt = theta, sigma, dt, coarse_dt
        self.obs_shape = self.micro_shape = (d,)

    def initial_conditions(self, n, seed=0):
        return np.random.default_rng(seed).standard_normal((n, *self.obs_shape))

    def lift(self, obs, rng=None):
        return np.array(obs, dtype=float)

    def restrict(self, micro):
        return np.array(micro, dtype=float)

    def _advance_steps(self, micro, t0, n_steps, rng):
        for _ in range(n_steps):
            noise = self.sigma * np.sqrt(self.dt) * rng.standard_normal(micro.shape)
            micro = micro - self.theta * self.dt * micro + noise
        return micro


SPLITS = {"train": (2, 30, 1), "val": (1, 30, 2), "test": (1, 20, 3)}


def test_generate_any_system_is_cached_by_content(tmp_path, monkeypatch):
    ds = data.generate(OU(), splits=SPLITS, cache=tmp_path, progress=False)
    assert ds.train.states.shape == (2, 30, 2) and ds.test.states.shape == (1, 20, 2)
    np.testing.assert_allclose(ds.train.t[0], 0.1 * np.arange(30))
    # the first recorded state is the seeded initial condition; the noise is the seed's child stream
    np.testing.assert_array_equal(ds.train.states[:, 0], OU().initial_conditions(2, seed=1))
    rng = np.random.default_rng(np.random.SeedSequence([1, 7919]))
    step = OU()._advance_steps(OU().initial_conditions(2, seed=1), 0.0, 10, rng)
    np.testing.assert_allclose(ds.train.states[:, 1], step, rtol=0, atol=1e-15)
    assert ds.system() is not None and ds.path.exists()

    def fail(*a, **k):
        raise AssertionError("cached data must not be simulated again")

    monkeypatch.setattr(data, "_generate_spec", fail)
    again = data.generate(OU(), splits=SPLITS, cache=tmp_path, progress=False)
    np.testing.assert_array_equal(again.train.states, ds.train.states)
    assert again.content_hash == ds.content_hash
    monkeypatch.undo()
    # another parameter, split, transient or scaling: other data, another key
    keys = {ds.spec.key()}
    for kw in (dict(system=OU(sigma=0.6)), dict(splits={**SPLITS, "val": (1, 30, 5)}), dict(transient=0.5),
               dict(scaling="minmax")):
        args = dict(system=OU(), splits=SPLITS, cache=tmp_path, progress=False) | kw
        other = data.generate(**args)
        keys.add(other.spec.key())
        assert other.content_hash != ds.content_hash
    assert len(keys) == 5


def test_generate_matches_the_paper_generation_of_the_same_split():
    ks = systems.KuramotoSivashinsky()
    mine = data.generate(ks, splits={"train": (1, 8, 1), "val": (1, 8, 2)}, transient=1.0, cache=False,
                         progress=False)
    s = data.spec("KS").with_(splits=(("train", SplitSpec(1, 8, seed=1)), ("val", SplitSpec(1, 8, seed=2))),
                              transient=1.0)
    paper = data.generate(s, progress=False)
    np.testing.assert_array_equal(mine.train.states, paper.train.states)
    assert mine.content_hash == paper.content_hash  # the hash is of the data, not of how they were named


def test_generate_rejects_bad_arguments():
    with pytest.raises(TypeError, match="System instance"):
        data.generate("OU", splits=SPLITS)
    with pytest.raises(ValueError, match="'train' and 'val'"):
        data.generate(OU(), splits={"train": (1, 10, 0)}, cache=False)
    with pytest.raises(ValueError, match="n_samples"):
        data.generate(OU(), splits={"train": (1, 1, 0), "val": (1, 10, 1)}, cache=False)
    with pytest.raises(ValueError, match="seed"):
        data.generate(OU(), splits={"train": (1, 10, -1), "val": (1, 10, 1)}, cache=False)
    with pytest.raises(ValueError, match="split name"):
        data.generate(OU(), splits={"train": (1, 10, 0), "val": (1, 10, 1), "../x": (1, 10, 2)}, cache=False)
    with pytest.raises(ValueError, match="transient"):
        data.generate(OU(), splits=SPLITS, transient=0.005, cache=False)
    with pytest.raises(ValueError, match="scaling"):
        data.generate(OU(), splits=SPLITS, scaling="log", cache=False)


def test_a_system_that_cannot_be_hashed_needs_a_key(tmp_path):
    s = OU()
    s.forcing = lambda t: 0.0
    with pytest.raises(ValueError, match="key="):
        data.generate(s, splits=SPLITS, cache=tmp_path, progress=False)
    ds = data.generate(s, splits=SPLITS, cache=tmp_path, progress=False, key="ou-forced-v1")
    assert ds.path.name.startswith("OU-custom-")
    with pytest.raises(ValueError, match="key"):
        data.generate(s, splits=SPLITS, cache=tmp_path, key="../escape")


def test_from_arrays_builds_a_dataset_and_names_bad_input():
    rng = np.random.default_rng(0)
    tr, va = rng.standard_normal((3, 40, 5)), rng.standard_normal((1, 40, 5))
    ds = data.from_arrays(train=tr, val=va, coarse_dt=0.2, t0=1.0)
    np.testing.assert_array_equal(ds.train.states, tr)
    np.testing.assert_allclose(ds.val.t[0], 1.0 + 0.2 * np.arange(40))
    np.testing.assert_allclose(ds.scaler.transform(tr).mean(), 0.0, atol=1e-12)
    one = data.from_arrays(train=tr[0], val=va[0], coarse_dt=0.2)  # one trajectory (n_samples, d)
    assert one.train.states.shape == (1, 40, 5)
    # obs_shape says how to read a 3-D array: one trajectory of 3 samples of (40, 5) fields
    assert data.from_arrays(train=tr, val=tr, coarse_dt=0.2, obs_shape=(40, 5)).train.states.shape == (1, 3, 40, 5)
    with pytest.raises(ValueError, match="train contains 1 NaN or inf values"):
        bad = tr.copy()
        bad[1, 7, 2] = np.nan
        data.from_arrays(train=bad, val=va, coarse_dt=0.2)
    with pytest.raises(ValueError, match="val has observables of shape \\(4,\\), train has \\(5,\\)"):
        data.from_arrays(train=tr, val=va[..., :4], coarse_dt=0.2)
    with pytest.raises(ValueError, match="at least 2 samples"):
        data.from_arrays(train=tr[:, :1], val=va, coarse_dt=0.2)
    for dt in (0.0, -1.0, float("nan"), None, "0.1"):
        with pytest.raises(ValueError, match="coarse_dt"):
            data.from_arrays(train=tr, val=va, coarse_dt=dt)
    with pytest.raises(ValueError, match="scaling"):
        data.from_arrays(train=tr, val=va, coarse_dt=0.2, scaling="robust")


def test_content_hash_changes_with_the_data_and_only_with_them():
    rng = np.random.default_rng(1)
    tr, va = rng.standard_normal((2, 20, 3)), rng.standard_normal((1, 20, 3))
    h = data.from_arrays(train=tr, val=va, coarse_dt=0.5).content_hash
    assert h == data.content_hash(data.from_arrays(train=tr.copy(), val=va.copy(), coarse_dt=0.5))
    edited = tr.copy()
    edited[0, 3, 1] += 1e-12
    others = [data.from_arrays(train=edited, val=va, coarse_dt=0.5),
              data.from_arrays(train=tr, val=va, coarse_dt=0.25),
              data.from_arrays(train=tr, val=va, coarse_dt=0.5, t0=1.0),
              data.from_arrays(train=tr, val=va, coarse_dt=0.5, scaling="minmax"),
              data.from_arrays(train=tr, val=va, test=va, coarse_dt=0.5),
              data.from_arrays(train=tr.astype(np.float32), val=va.astype(np.float32), coarse_dt=0.5)]
    hashes = {o.content_hash for o in others}
    assert h not in hashes and len(hashes) == len(others)
    # an edit in place changes the hash; frozen (read-only) arrays reuse the last one
    ds = data.from_arrays(train=tr, val=va, coarse_dt=0.5)
    ds.train.states[0, 0, 0] = 5.0
    assert ds.content_hash != h
    ds.train.states[0, 0, 0] = tr[0, 0, 0]
    assert ds.content_hash == h
    for sp in ds.splits.values():
        sp.states.setflags(write=False)
        sp.t.setflags(write=False)
    assert ds.content_hash == h and ds._hash_memo[1] == h


def test_cached_paper_data_keep_their_content_hash(tmp_path):
    import json

    s = tiny("FHN")
    fresh = data.generate(s, progress=False)
    cached = data.load(s, cache=tmp_path, progress=False)
    assert data.read(s, tmp_path).content_hash == fresh.content_hash == cached.content_hash
    assert json.loads(cached.path.with_suffix(".json").read_text())["content_hash"] == fresh.content_hash


# ---------------------------------------------------------------------------------
# Cache reliability
# ---------------------------------------------------------------------------------
def test_names_cannot_leave_the_cache(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        data.load(data.spec("KS").with_(profile="../x"), cache=tmp_path)
    with pytest.raises(ValueError):
        data.cache_path(tmp_path, "data", "../../etc")
    with pytest.raises(ValueError):
        data.cache_path(tmp_path, "/abs")
    assert data.cache_path(tmp_path, "data", "KS-quick-0123.npz") == tmp_path / "data" / "KS-quick-0123.npz"
    for bad in ("../x", "a/b", "..", ".hidden", "", "a b"):
        with pytest.raises(ValueError):
            data.generate(OU(), splits=SPLITS, cache=tmp_path, key=bad)


def test_empty_cache_string_means_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("LED_CACHE_DIR", str(tmp_path / "default"))
    assert data.cache_dir("") == data.cache_dir(None) == tmp_path / "default"
    ds = data.generate(OU(), splits=SPLITS, cache="", progress=False)
    assert ds.path.parent == tmp_path / "default" / "data"


def test_edited_metadata_is_detected(tmp_path):
    import json

    s = tiny("KS")
    ds = data.load(s, cache=tmp_path, progress=False)
    meta = ds.path.with_suffix(".json")
    info = json.loads(meta.read_text())
    info["coarse_dt"] = 0.5
    meta.write_text(json.dumps(info))
    with pytest.raises(data.CacheError, match="metadata"):
        data.read(s, tmp_path)
    with pytest.warns(RuntimeWarning, match="regenerating"):
        again = data.load(s, cache=tmp_path, progress=False)
    assert again.coarse_dt == 0.25


def test_metadata_written_before_its_checksum_is_accepted_and_upgraded(tmp_path):
    import json

    s = tiny("KS")
    ds = data.load(s, cache=tmp_path, progress=False)
    meta = ds.path.with_suffix(".json")
    info = json.loads(meta.read_text())
    legacy = {k: info[k] for k in ("sha256", "spec", "coarse_dt", "version")}  # the older format
    meta.write_text(json.dumps(legacy))
    again = data.read(s, tmp_path)
    np.testing.assert_array_equal(again.train.states, ds.train.states)
    assert again.content_hash == ds.content_hash
    assert json.loads(meta.read_text())["meta_sha256"]  # upgraded
    legacy["coarse_dt"] = 0.5  # an old file whose coarse_dt disagrees with its spec is not trusted
    meta.write_text(json.dumps(legacy))
    with pytest.raises(data.CacheError):
        data.read(s, tmp_path)


def test_leftovers_of_a_killed_write_are_removed_and_files_are_0644(tmp_path):
    import os
    import stat

    s = tiny("KS")
    npz, meta = data._paths(s, data.cache_dir(tmp_path))
    npz.parent.mkdir(parents=True)
    stale = [npz.parent / f".{npz.name}.abc123.tmp", npz.parent / f".{meta.name}.xyz.tmp"]
    for p in stale:
        p.write_bytes(b"partial")
    unrelated = npz.parent / "notes.tmp"
    unrelated.write_text("keep")
    ds = data.load(s, cache=tmp_path, progress=False)
    assert not any(p.exists() for p in stale) and unrelated.exists()
    for p in (ds.path, ds.path.with_suffix(".json")):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    assert not list(npz.parent.glob("*.lock")) and not list(npz.parent.glob(".*.lock"))


def test_file_lock_is_exclusive_and_removed_on_release(tmp_path):
    import multiprocessing as mp
    import time

    lock = tmp_path / ".x.lock"
    log = tmp_path / "log"

    with data.file_lock(lock):
        assert lock.exists()
        p = mp.get_context("fork").Process(target=_hold, args=(lock, log))
        p.start()
        time.sleep(0.5)
        assert not log.exists()  # the other process waits for the lock
    p.join(10)
    assert p.exitcode == 0 and log.read_text() == "in"
    assert not lock.exists()


def _hold(lock, log):
    with data.file_lock(lock):
        log.write_text("in")


def test_a_transient_of_absurd_length_is_refused_when_the_spec_is_made():
    s = data.spec("KS", "quick")
    with pytest.raises(ValueError, match=r"transient=1e\+308 must be at most .* solver steps"):
        s.with_(transient=1e308)
    assert s.with_(transient=2.5).transient == 2.5  # a whole number of the solver's steps is fine
