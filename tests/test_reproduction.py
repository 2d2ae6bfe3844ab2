"""The claims registry covers REPRODUCTION.md, and verdicts follow each claim's rule."""

import re
from pathlib import Path

import pytest

from ledlib import reproduction

SHARED = Path(__file__).resolve().parents[2] / "shared" / "REPRODUCTION.md"


@pytest.mark.skipif(not SHARED.exists(), reason="shared/REPRODUCTION.md not beside the checkout")
def test_every_claim_and_figure_of_reproduction_md_is_registered():
    text = SHARED.read_text()
    ids = set(re.findall(r"`((?:AD1|AD3|FHN|KS)\.[A-Za-z0-9_.\-]+)`", text))
    registered = {c.id for c in reproduction.CLAIMS}
    assert ids and ids <= registered, sorted(ids - registered)
    figures = {int(n) for n in re.findall(r"\bF(\d+)\b", text.split("## Figures to draw")[1])}
    assert figures == set(reproduction.FIGURES)
    assert {f"T{n}" for n in range(1, 9)} <= registered


def test_verdict_rules():
    assert reproduction.verdict("KS.lyapunov_exponent", 0.049) == "matches"
    assert reproduction.verdict("KS.lyapunov_exponent", 0.06) == "differs"
    assert reproduction.verdict("AD1.speedup_latent", 150.0) == "matches"
    assert reproduction.verdict("AD1.speedup_latent", 50.0) == "differs"
    assert reproduction.verdict("KS.nad_lyapunov_times", 0.5) == "differs"
    assert reproduction.verdict("AD1.wd_m1_latent", 0.01) == "reported"
    assert reproduction.verdict("AD1.wd_m1_latent", None) == "not measured"
    assert reproduction.verdict("KS.lyapunov_exponent", float("nan")) == "differs"
    with pytest.raises(ValueError, match="unknown claim"):
        reproduction.verdict("KS.nope", 1.0)


# ----------------------------------------------------------------------------- the one set of rules
def _entry(ours, paper=None, **kw):
    return {"ours": ours, "paper": paper, "profile": "paper", "device": "cpu", "commit": "abc1234", **kw}


def test_counts_must_be_equal_and_identical_values_match():
    assert reproduction.verdict("AD1.latent_dim", 1) == "matches"
    assert reproduction.verdict("KS.latent_dim", 8) == "matches"
    assert reproduction.verdict("KS.latent_dim", 9) == "differs"
    assert reproduction.verdict("AD3.n_metastable_states", 6) == "matches"
    assert reproduction.verdict("AD3.n_metastable_states", 7) == "differs"


def test_errors_match_within_the_stated_factor_either_way():
    f = reproduction.ERROR_FACTOR
    for ours, expect in ((0.04 * f * 0.99, "matches"), (0.04 * f * 1.01, "differs"),
                         (0.04 / f * 1.01, "matches"), (0.04 / f * 0.99, "differs")):
        assert reproduction.verdict("FHN.mnad_latent_tf8000", ours) == expect, ours


def test_speedups_above_the_papers_match_with_the_ratio_shown():
    judged = reproduction.judge({"AD3.speedup_latent": _entry(708.0, 100.0),
                                 "AD1.speedup_latent": _entry(385.0, 100.0),
                                 "KS.speedup_latent": _entry(16.7, 80.0)})
    assert judged["AD3.speedup_latent"][0] == judged["AD1.speedup_latent"][0] == "matches"
    assert "7.08" in judged["AD3.speedup_latent"][1]
    assert judged["KS.speedup_latent"][0] == "differs"
    # "about 2x" measured as 1.95: within the speed-up tolerance
    assert reproduction.verdict("FHN.speedup_rho1", 1.95) == "matches"


def test_twins_are_judged_alike():
    inside, outside = 0.0153 * 1.5, 0.0156 * 3.0
    card = {"FHN.mnad_u_cspde_best": _entry(inside, 0.0153), "FHN.mnad_v_cspde_best": _entry(outside, 0.0156)}
    judged = reproduction.judge(card)
    assert judged["FHN.mnad_u_cspde_best"][0] == judged["FHN.mnad_v_cspde_best"][0] == "differs"
    assert "twin" in judged["FHN.mnad_u_cspde_best"][1]
    card["FHN.mnad_v_cspde_best"] = _entry(0.0156 * 1.2, 0.0156)
    judged = reproduction.judge(card)
    assert judged["FHN.mnad_u_cspde_best"][0] == judged["FHN.mnad_v_cspde_best"][0] == "matches"
    # the u claim named without "_u" and an unregistered v twin with a paper number
    card = {"FHN.mnad_latent_tf8000": _entry(0.045, 0.04), "FHN.mnad_v_latent_tf8000": _entry(0.5, 0.04)}
    judged = reproduction.judge(card)
    assert judged["FHN.mnad_latent_tf8000"][0] == judged["FHN.mnad_v_latent_tf8000"][0] == "differs"
    assert reproduction.twin("FHN.mnad_v_latent_tf8000", card) == "FHN.mnad_latent_tf8000"


def test_every_claim_with_a_paper_number_gets_matches_or_differs():
    card = {"FHN.mnad_v_cspde_GP": _entry(0.016, 0.0162), "FHN.test_mse_ae_dz8": _entry(1.4e-5, 1e-6),
            "KS.lyapunov_exponent": _entry("nan", 0.048), "T7": _entry("AE 5x50", "AE 5x50"),
            "T8": _entry("GRU 1x100", "GRU 1x200")}
    judged = reproduction.judge(card)
    assert judged["FHN.mnad_v_cspde_GP"][0] == "matches"
    assert judged["FHN.test_mse_ae_dz8"][0] == "differs"
    assert judged["KS.lyapunov_exponent"][0] == "differs"
    assert judged["T7"][0] == "matches" and judged["T8"][0] == "differs"


def test_qualitative_statements_are_reported_and_judged_in_a_sentence():
    card = {"AD3.pe_wd_m1": _entry({"1": 0.05, "10": 0.1, "100": 0.2}),
            "AD3.pe_wd_m2": _entry({"1": 0.05, "10": 0.01, "100": 0.2}),
            "AD1.wd_m1_latent": _entry(0.02), "AD1.wd_m1_multiscale": _entry(0.003),
            "AD1.wd_m2_latent": _entry(0.002), "AD1.wd_m2_multiscale": _entry(0.003)}
    judged = reproduction.judge(card)
    assert judged["AD3.pe_wd_m1"] == ("reported", judged["AD3.pe_wd_m1"][1])
    assert judged["AD3.pe_wd_m1"][1].startswith("holds")
    assert judged["AD3.pe_wd_m2"][1].startswith("does not hold")
    assert judged["AD1.wd_m1_multiscale"][1].startswith("holds")
    assert judged["AD1.wd_m2_multiscale"][1].startswith("does not hold")
    assert all(v == "reported" and why for v, why in (judged[k] for k in card))


def test_verdicts_are_computed_when_rendered_and_rows_link_to_their_figures():
    card = {"KS.lyapunov_exponent": _entry(0.0478, 0.048, figure="§8.4"),
            "KS.nad_lyapunov_times": _entry(0.9, 1.0)}
    page = reproduction.render_scorecard(card, "KS")
    assert 'id="claim-KS-lyapunov_exponent"' in page and "**matches**" in page
    assert 'href="ks.html#fig-ks-multiscale-summary"' in page  # F42, the figure the claim comes from
    card["KS.lyapunov_exponent"]["ours"] = 0.07  # nothing stored: the next render says differs
    assert "**differs**" in reproduction.render_scorecard(card, "KS").split("\n")[2]
    index = reproduction.figure_index()
    assert set(reproduction.FIGURES) <= set(index)
    summary = reproduction.render_summary(card)
    assert "| **all** |" in summary
    head = reproduction.render_headline(card)
    assert 'scorecard.html#claim-KS-lyapunov_exponent' in head


def test_fhn_led_variants_are_judged_against_the_best_cspde():
    """Every variant below our best CSPDE holds the paper's statement; one above does not,
    and is named; without our CSPDEs the paper's best bar is the reference."""
    card = {"FHN.mnad_u_cspde_best": {"ours": 7.8e-3},
            "FHN.mnad_u_led_variants": {"ours": {"AE-4": 7.2e-3, "AE-32": 0.19, "VAE-8": 3.8e-3}}}
    v, why = reproduction.judge(card)["FHN.mnad_u_led_variants"]
    assert v == "reported" and why.startswith("does not hold: 2 of 3") and "AE-32" in why
    card["FHN.mnad_u_led_variants"]["ours"].pop("AE-32")
    assert reproduction.judge(card)["FHN.mnad_u_led_variants"][1].startswith("holds: 2 of 2")
    del card["FHN.mnad_u_cspde_best"]
    why = reproduction.judge(card)["FHN.mnad_u_led_variants"][1]
    assert "the paper's best" in why and "0.0153" in why


def test_cspde_over_led_ratio_is_a_bound_judged_with_its_twin():
    assert reproduction.verdict("FHN.ratio_u_cspde_led", 6.0) == "matches"
    assert reproduction.verdict("FHN.ratio_u_cspde_led", 1.8) == "differs"
    j = reproduction.judge({"FHN.ratio_u_cspde_led": {"ours": 1.8}, "FHN.ratio_v_cspde_led": {"ours": 6.0}})
    assert j["FHN.ratio_v_cspde_led"][0] == "differs" and "twin" in j["FHN.ratio_v_cspde_led"][1]


def test_the_latent_orbit_is_judged_against_the_true_runs_own_return():
    card = {"AD3.latent_orbit": {"ours": {"period": 63, "true_period": 63, "model_to_truth": 0.011,
                                          "true_return": 0.021}}}
    v, why = reproduction.judge(card)["AD3.latent_orbit"]
    assert v == "reported" and why.startswith("holds") and "63" in why
    card["AD3.latent_orbit"]["ours"]["model_to_truth"] = 0.05  # farther from the truth than its own noise
    assert reproduction.judge(card)["AD3.latent_orbit"][1].startswith("does not hold")
    card["AD3.latent_orbit"]["ours"].update(model_to_truth=0.011, period=None)  # a run that does not close
    assert reproduction.judge(card)["AD3.latent_orbit"][1] == "LED's run is not closed, the true run returns"
    assert reproduction.verdict("AD3.n_metastable_states_truth", 1) == "differs"
