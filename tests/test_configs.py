"""The paper's configurations and Tables 1–8."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from ledlib import configs
from ledlib.configs import AutoencoderConfig, LEDConfig, RNNConfig, TrainConfig
from ledlib.nn import LED

PAPER = Path("/work/shared/paper/led-preprint-2020.txt")


def _paper_tables() -> dict[int, dict[str, str]]:
    """Rows of Tables 1–8 as printed in the paper text (name -> value text)."""
    lines = PAPER.read_text(encoding="utf-8").splitlines()
    out = {}
    for i, line in enumerate(lines):
        m = re.match(r"^Table (\d): ", line)
        if not m:
            continue
        rows, j = {}, i + 1
        while j < len(lines) and not lines[j].startswith("Hyperparameter\t"):
            j += 1
        for row in lines[j + 1:]:
            if not row.strip():
                break
            name, value = row.split("\t")
            rows[name.strip()] = value.strip()
        out[int(m.group(1))] = rows
    return out


def _norm(text: str) -> str:
    text = text.replace(r"$\mathcal{N}(0, 1)$", "N(0, 1)")
    for act in ("(.)", r"(\cdot)", "(·)"):
        text = text.replace(act, "")
    return text.replace(" ", "").replace("*", "")


@pytest.mark.skipif(not PAPER.exists(), reason="paper text not available")
@pytest.mark.parametrize("n", range(1, 9))
def test_tables_match_the_paper_text(n):
    paper = _paper_tables()[n]
    md = configs.render_table(n).splitlines()
    assert md[0].startswith(f"Table {n}: ")
    ours = {}
    for row in md[4:]:
        _, name, value, _ = row.split("|")
        ours[name.strip()] = value.strip()
    assert list(ours) == list(paper)  # same rows, same order
    for name in paper:
        assert _norm(ours[name]) == _norm(paper[name]), (n, name, ours[name], paper[name])


@pytest.mark.parametrize("system", configs.SYSTEMS)
def test_paper_choices_lie_in_the_searched_grids(system):
    cfg = configs.get(system, "paper")
    chosen = configs.paper_choices(cfg)
    checked = 0
    for n in configs.SYSTEM_TABLES[system]:
        for name, grid in configs.table_grid(n).items():
            if name in chosen and all(isinstance(v, (int, float)) or v in ("lstm", "gru") for v in grid):
                assert any(v == chosen[name] for v in grid), (system, n, name, chosen[name], grid)
                checked += 1
    assert checked >= 12


def test_paper_picks_as_stated_in_the_text():
    ks = configs.get("KS", "paper")  # §8.4
    assert (ks.ae.n_layers, ks.ae.width, ks.ae.activation, ks.ae.residual, ks.ae.d_z) == (5, 50, "tanh", True, 8)
    assert (ks.ae_train.noise_level, ks.ae_train.weight_decay, ks.rnn_train.weight_decay) == (0.10, 1e-4, 0.0)
    assert (ks.rnn.cell, ks.rnn.d_h, ks.rnn_train.bptt, ks.rnn_train.hidden_propagation_length) == ("gru", 200, 125, 1000)
    fhn = configs.get("FHN", "paper")  # §8.3
    assert (fhn.ae.n_layers, fhn.ae.width, fhn.ae.d_z, fhn.rnn.cell, fhn.rnn.d_h, fhn.rnn_train.bptt) == \
        (3, 100, 8, "lstm", 50, 30)
    for system, d_z, K, d_x in (("AD1D", 1, 4, 1), ("AD3D", 8, 5, 3)):  # §8.1, §8.2
        c = configs.get(system, "paper")
        assert c.ae.kind == "particle" and c.ae.variational and c.scaling == "minmax"
        assert (c.ae.n_layers, c.ae.width, c.ae.d_p, c.ae.md_hidden) == (5, 100, 200, 50)
        assert (c.ae.d_z, c.ae.n_kernels, c.ae.d_x) == (d_z, K, d_x)
        assert (c.rnn.cell, c.rnn.d_h, c.rnn_train.bptt, c.rnn_train.hidden_propagation_length) == ("lstm", 100, 100, 500)
    for c in (configs.get(s, "paper") for s in configs.SYSTEMS):
        assert (c.ae_train.lr, c.ae_train.batch_size, c.rnn_train.lr, c.rnn_train.batch_size) == (1e-3, 32, 1e-3, 32)


@pytest.mark.parametrize("system", configs.SYSTEMS)
def test_quick_profile_is_a_small_version_of_the_paper_pick(system):
    paper, quick = configs.get(system, "paper"), configs.get(system, "quick")
    for field in ("kind", "d_z", "variational", "obs_shape", "n_kernels", "activation", "residual"):
        assert getattr(quick.ae, field) == getattr(paper.ae, field), field
    assert quick.rnn.cell == paper.rnn.cell and quick.scaling == paper.scaling
    n_quick = sum(p.numel() for p in LED(quick).parameters())
    n_paper = sum(p.numel() for p in LED(paper).parameters())
    assert n_quick < 0.25 * n_paper
    assert quick.ae_train.max_epochs <= 30 and quick.rnn_train.max_epochs <= 30


def test_config_round_trip_and_lookup():
    for system in configs.SYSTEMS:
        for profile in configs.PROFILES:
            c = configs.get(system, profile)
            assert LEDConfig.from_dict(c.to_dict()) == c
    assert configs.get("ad-3d", "quick") == configs.get("AD3D", "quick")
    with pytest.raises(ValueError, match="system"):
        configs.get("Lorenz")
    with pytest.raises(ValueError, match="profile"):
        configs.get("KS", "huge")
    with pytest.raises(ValueError, match="table number"):
        configs.render_table(9)
    with pytest.raises(dataclasses.FrozenInstanceError):
        configs.get("KS").ae.d_z = 3


def test_render_table_marks_the_paper_pick():
    md = configs.render_table(8, mark_selected=True)
    assert "{1, 10}" not in md and "{1, **10**}" in md         # noise 10 %
    assert "{**125**, 250}" in md and "{100, **200**, 400}" in md  # BPTT 125, GRU 200
    assert "{lstm, **gru**}" in md


@pytest.mark.parametrize("kwargs,field", [
    (dict(obs_shape=(64,), d_z=0), "d_z"),
    (dict(obs_shape=(64,), d_z=2, n_layers=0), "n_layers"),
    (dict(obs_shape=(0,), d_z=2), "obs_shape"),
    (dict(obs_shape=(64,), d_z=2, activation="relu"), "activation"),
    (dict(obs_shape=(64,), d_z=2, kind="graph"), "kind"),
    (dict(obs_shape=(100, 3), d_z=2, kind="particle", n_kernels=0), "n_kernels"),
    (dict(obs_shape=(100, 3), d_z=2, kind="particle", softplus_eps=0.0), "softplus_eps"),
    (dict(obs_shape=(64,), d_z=2.5), "d_z"),
])
def test_bad_autoencoder_configs(kwargs, field):
    with pytest.raises(ValueError, match=field):
        AutoencoderConfig(**kwargs)


@pytest.mark.parametrize("cls,kwargs,field", [
    (RNNConfig, dict(cell="transformer"), "cell"),
    (RNNConfig, dict(d_h=0), "d_h"),
    (TrainConfig, dict(lr=0.0), "lr"),
    (TrainConfig, dict(batch_size=0), "batch_size"),
    (TrainConfig, dict(noise_level=-0.1), "noise_level"),
    (TrainConfig, dict(lr_factor=1.0), "lr_factor"),
    (TrainConfig, dict(bptt=200, hidden_propagation_length=100), "hidden_propagation_length"),
    (TrainConfig, dict(weight_decay=float("nan")), "weight_decay"),
])
def test_bad_rnn_and_train_configs(cls, kwargs, field):
    with pytest.raises(ValueError, match=field):
        cls(**kwargs)


def test_bad_led_config():
    with pytest.raises(ValueError, match="scaling"):
        dataclasses.replace(configs.get("KS"), scaling="log")
    with pytest.raises(ValueError, match="ae"):
        LEDConfig("KS", ae="not a config")


# ---------------------------------------------------------------------------------
# templates for any system
# ---------------------------------------------------------------------------------
def _n_weights(cfg):
    from ledlib.nn import LED

    return sum(p.numel() for p in LED(cfg).parameters())


def test_template_sizes_grow_and_set_every_schedule_field():
    sizes = [configs.template((64,), 8, size=s) for s in configs.SIZES]
    assert [c.profile for c in sizes] == ["quick", "medium", "paper"]
    weights = [_n_weights(c) for c in sizes]
    assert weights[0] < weights[1] < weights[2]
    epochs = [c.ae_train.max_epochs for c in sizes]
    assert epochs == [30, 200, 1000]
    quick = sizes[0]
    # the quick size is the quick profile's schedule, not TrainConfig's (medium) defaults
    assert (quick.ae_train.patience, quick.ae_train.lr_patience, quick.ae_train.min_lr) == (8, 3, 1e-5)
    assert quick.rnn_train.chunks_per_epoch == 4 * quick.rnn_train.batch_size
    assert (quick.ae.kind, quick.ae.variational, quick.rnn.cell, quick.scaling) == ("field", False, "gru", "standard")
    assert LEDConfig.from_dict(quick.to_dict()) == quick


def test_template_particles_and_stochastic():
    c = configs.template((50, 2), 3, particles=True, stochastic=True, cell="lstm", system="mueller-brown")
    assert (c.ae.kind, c.ae.variational, c.rnn.cell, c.scaling, c.system) == ("particle", True, "lstm", "minmax",
                                                                               "mueller-brown")
    assert (c.ae.d_p, c.ae.md_hidden, c.ae.n_kernels, c.d_z) == (32, 16, 5, 3)
    with pytest.raises(ValueError, match="obs_shape must be \\(n_particles, d_x\\)"):
        configs.template((50,), 3, particles=True)


def test_template_rejects_bad_input_by_name():
    for kw, match in ((dict(size="huge"), "size"), (dict(system="../x"), "system"), (dict(system="a/b"), "system"),
                      (dict(system=""), "system"), (dict(cell="rnn"), "cell"), (dict(particles=1), "particles"),
                      (dict(stochastic="yes"), "stochastic")):
        with pytest.raises(ValueError, match=match):
            configs.template((4,), 2, **kw)
    with pytest.raises(ValueError, match="d_z"):
        configs.template((4,), 0)
    with pytest.raises(ValueError, match="obs_shape"):
        configs.template((), 2)
    with pytest.raises(ValueError, match="system"):
        configs.get("KS", "quick").replace(system="../../etc")
    with pytest.raises(ValueError, match="profile"):
        configs.get("KS", "quick").replace(profile="a/b")


def test_train_config_defaults_are_the_documented_medium_schedule():
    t = TrainConfig()
    assert (t.max_epochs, t.patience, t.lr_patience, t.lr_factor, t.min_lr) == (100, 20, 5, 0.5, 1e-6)
    assert (t.lr, t.batch_size, t.bptt, t.hidden_propagation_length) == (1e-3, 32, 100, 500)
    for name in ("max_epochs", "patience", "bptt", "hidden_propagation_length"):
        assert str(getattr(t, name)) in TrainConfig.__doc__


def test_absurd_layer_widths_are_refused_before_torch_allocates():
    from ledlib.configs import MAX_LAYER_WIDTH, template

    assert template((3,), d_z=MAX_LAYER_WIDTH).ae.d_z == MAX_LAYER_WIDTH
    with pytest.raises(ValueError, match=r"d_z must be an integer in \[1, 100000\], got 1000000000000"):
        template((3,), d_z=10**12)
