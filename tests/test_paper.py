"""``ledlib.paper``: one module per paper system, and the wrappers that read it."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

from ledlib import configs, data, paper, studies

ROOT = Path(__file__).resolve().parent.parent

# The cache keys of the paper datasets. They name the cached data (here and on the
# machines that pretrain models), so a refactor must not change them: a change means
# every paper dataset is generated again. Change them only with DATA_VERSION.
SPEC_KEYS = {
    ("KS", "quick"): "7d44fd19caba6341", ("KS", "paper"): "b8b7351419aa8e22",
    ("FHN", "quick"): "a6e82dfbeb4e203b", ("FHN", "paper"): "a7d960581a2cd316",
    ("AD1D", "quick"): "ca3e8bcfec5683bf", ("AD1D", "paper"): "eb6bd6977f138ac0",
    ("AD3D", "quick"): "fb3d80cb3828e8b8", ("AD3D", "paper"): "d893463953ab56b2",
}
PECLET_KEYS = {("quick", 100): "df22ed873b0bbab2", ("quick", 10): "34ca20222007316d", ("quick", 1): "0b79073b35b0dcb1",
               ("paper", 100): "1196cb24c9b1bc89", ("paper", 10): "515b984cc96526d1", ("paper", 1): "e2c8adc12b5b8aad"}


def test_one_definition_of_systems_profiles_and_the_default():
    assert configs.SYSTEMS is data.SYSTEMS is paper.SYSTEMS == ("KS", "FHN", "AD1D", "AD3D")
    assert configs.PROFILES is data.PROFILES is paper.PROFILES == ("quick", "paper")
    assert paper.DEFAULT_PROFILE == "quick"
    for s in paper.SYSTEMS:
        assert configs.get(s) == configs.get(s, "quick") == paper.module(s).config("quick")
        assert data.spec(s) == data.spec(s, "quick") == paper.module(s).dataset_spec("quick")
        assert [j.name for j in studies.jobs(s)] == [j.name for j in studies.jobs(s, "quick")]


@pytest.mark.parametrize("system, profile", sorted(SPEC_KEYS))
def test_paper_dataset_keys_are_unchanged(system, profile):
    assert data.spec(system, profile).key() == SPEC_KEYS[system, profile]


def test_peclet_case_keys_are_unchanged():
    for (profile, pe), key in PECLET_KEYS.items():
        spec, cfg = studies.peclet_case(profile, pe)
        assert spec.key() == key
        assert cfg.ae.obs_shape == (paper.ad3d.PECLET_N[profile], 3)


def test_every_module_holds_the_same_parts():
    for name, m in paper.MODULES.items():
        assert m.NAME == name
        p = m.paper_config()
        assert p.profile == "paper" and p.system == name and m.config("paper") == p
        q = m.config("quick")
        # the quick variant: same architecture family, fewer weights and epochs
        assert (q.ae.kind, q.ae.variational, q.rnn.cell, q.scaling) == (p.ae.kind, p.ae.variational, p.rnn.cell,
                                                                           p.scaling)
        assert q.ae.width < p.ae.width and q.rnn.d_h < p.rnn.d_h and q.ae_train.max_epochs < p.ae_train.max_epochs
        assert set(m.PROTOCOL) == set(paper.PROFILES)
        assert m.TRADEOFF.T_warm > 0 and set(m.TRADEOFF.horizon) == set(paper.PROFILES)
        system = m.make_system()
        assert system.obs_shape == p.ae.obs_shape == tuple(data.spec(name).make_system().obs_shape)
        assert m.jobs("quick")[0].name.startswith(name)


def test_unknown_names_say_what_to_do_instead():
    for call in (lambda: configs.get("Lorenz"), lambda: data.spec("Lorenz"), lambda: studies.jobs("Lorenz", "quick"),
                 lambda: data.load("Lorenz")):
        with pytest.raises(ValueError, match="data.generate.*configs.template"):
            call()
    for bad in ("huge", "../x", None):
        with pytest.raises(ValueError, match="profile"):
            paper.config("KS", bad)
    with pytest.raises(ValueError, match="profile"):
        data.spec("KS").with_(profile="../x")


def _chapter_constants(path: Path, profile: str) -> dict:
    """The chapter's top-level NAME = <literal or `x if paper else y`> assignments, evaluated."""
    env = {"paper": profile == "paper", "profile": profile, "n_ic": None, "n_runs": None, "studies": studies}
    out = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            names = [target.id] if isinstance(target, ast.Name) else (
                [t.id for t in target.elts] if isinstance(target, ast.Tuple)
                and all(isinstance(t, ast.Name) for t in target.elts) else [])
            if not names or not all(n.isupper() for n in names):
                continue
            try:
                value = eval(compile(ast.Expression(node.value), str(path), "eval"), env)  # noqa: S307
            except Exception:  # a constant computed from something else: not a protocol value
                continue
            out.update(zip(names, value) if len(names) > 1 else [(names[0], value)])
    return out


# chapter constant -> attribute of the system's PROTOCOL[profile]
CHAPTER_NAMES = {
    ("03_ad1d.py", "AD1D"): {"T_WARM": "T_warm", "T_MU": "T_mu", "T_MS": "T_ms", "T_F": "T_f", "T_SHOW": "T_show",
                             "T_LONG": "T_long", "RECORD": "record_every", "N_IC": "n_ic", "N_RUNS": "n_runs",
                             "I0": "i0", "T_LAT": "T_speed"},
    ("04_ad3d.py", "AD3D"): {"T_WARM": "T_warm", "T_MU": "T_mu", "T_MS": "T_ms", "T_F": "T_f", "T_SHOW": "T_show",
                             "SNAPS": "snaps", "T_LONG": "T_long", "RECORD": "record_every", "N_IC": "n_ic",
                             "N_RUNS": "n_runs", "I0": "i0", "T_LAT": "T_speed"},
    ("05_fhn.py", "FHN"): {"T_WARM": "T_warm", "T_MU": "T_mu", "N_WINDOWS": "n_windows", "HORIZON": "horizon",
                           "T_MS": "T_ms"},
    ("06_ks.py", "KS"): {"N_IC": "n_ic", "T_WARM": "T_warm", "T_F": "T_f", "T_MU": "T_mu", "T_MS": "T_ms",
                         "T_SPEED": "T_speed", "NAD_THRESHOLD": "nad_threshold"},
}


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_protocols_hold_the_chapters_values(profile):
    """While a chapter still spells its constants out, they equal the module's (the
    chapters are to read them from ledlib.paper; then there is nothing left to compare)."""
    for (chapter, system), names in CHAPTER_NAMES.items():
        consts = _chapter_constants(ROOT / "notebooks" / chapter, profile)
        proto = paper.protocol(system, profile)
        for const, attr in names.items():
            if const in consts:
                assert consts[const] == getattr(proto, attr), (chapter, const)
    pe = _chapter_constants(ROOT / "notebooks" / "04_ad3d.py", profile)
    pp = paper.ad3d.PECLET_PROTOCOL[profile]
    for const, attr in (("PE_T_WARM", "T_warm"), ("PE_T_F", "T_f"), ("PE_T_MU", "T_mu"), ("PE_RUNS", "n_runs")):
        if const in pe:
            assert pe[const] == getattr(pp, attr)
    trade = _chapter_constants(ROOT / "notebooks" / "07_tradeoffs.py", profile)
    if "SETTINGS" in trade:
        assert trade["SETTINGS"] == paper.tradeoff_settings()


def test_job_configs_are_the_study_grids():
    ks = studies.jobs("KS", "paper")
    assert len(ks) == 2 * len(paper.ks.LATENT_GRID["paper"]) + 1
    assert ks[-1].name == "KS-AE-8-no-noise"
    ad3 = studies.jobs("AD3D", "quick")
    assert [j.name for j in ad3] == ["AD3D", "AD3D-Pe100", "AD3D-Pe10", "AD3D-Pe1"]
    assert [j.data.key() for j in ad3[1:]] == [PECLET_KEYS["quick", pe] for pe in (100, 10, 1)]
    base = paper.fhn.config("paper")
    v = paper.fhn.variant(base, 4, True, 0.1, full=False)
    assert (v.ae.d_z, v.ae.variational, v.rnn_train.noise_level, v.rnn_train.max_epochs) == (4, True, 0.1, 1)
    assert dataclasses.replace(v.rnn_train, noise_level=base.rnn_train.noise_level,
                               max_epochs=base.rnn_train.max_epochs) == base.rnn_train


def test_tables_live_with_their_systems():
    seen = {}
    for name, m in paper.MODULES.items():
        assert len(m.TABLES) == 2 and all(t.system == name for t in m.TABLES.values())
        assert [t.stage for t in m.TABLES.values()] == ["ae", "rnn"]
        seen.update(m.TABLES)
    assert configs.TABLES == dict(sorted(seen.items())) and list(configs.TABLES) == list(range(1, 9))
    assert configs.SYSTEM_TABLES == {"AD1D": (1, 2), "AD3D": (3, 4), "FHN": (5, 6), "KS": (7, 8)}
