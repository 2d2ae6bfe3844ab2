"""What the book reproduces: the paper's claims, figures and tables, and the verdicts.

Each claim has the ID the scorecard uses, the paper's value and its *kind*, which fixes
how ours is compared with the paper's. There is one set of verdict rules, :data:`RULES`
(printed on the scorecard page by :func:`rules_markdown`), and verdicts are computed when
the scorecard is rendered (:func:`judge`), never stored:

- ``count`` (a latent dimension, a number of states): equal, or it differs;
- ``value`` (a physical quantity, a fraction): within the claim's ``rel_tol``;
- ``error`` (MNAD, WD, MSE): within a factor :data:`ERROR_FACTOR` of the paper's, either way;
- ``speedup``: at least the paper's divided by :data:`SPEEDUP_FACTOR` (the paper's speed-ups
  are "about" values read from log plots); above the paper's also matches, with the ratio shown;
- ``bound``: the paper states a bound (``compare`` is ``"at_least"`` or ``"at_most"``);
- ``config`` (a hyperparameter table's pick): the same configuration, or it differs;
- ``qualitative``: the paper gives no number; the verdict is *reported* and a sentence judges
  the statement (e.g. "grows with Pe": holds or does not) from our numbers.

Twin claims (the u and v of FitzHugh-Nagumo) are judged alike: both match only if both do.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Claim", "CLAIMS", "FIGURES", "TABLES", "RULES", "ERROR_FACTOR", "SPEEDUP_FACTOR", "claim", "kind_of",
           "verdict", "twin", "judge", "scorecard_rows", "render_scorecard", "render_summary", "render_headline",
           "rules_markdown", "figure_index", "SYSTEMS"]

# Figures with data the book redraws (schematic Figures 1, 2, 9-15 are redrawn in the
# Theory chapter), and the hyperparameter tables.
FIGURES = (3, 4, 5, 6, 7, 8, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
           32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45)
TABLES = tuple(range(1, 9))


@dataclass(frozen=True)
class Claim:
    id: str
    paper: float | dict | None
    unit: str
    figure: str
    statement: str
    compare: str = "report"  # "approx" | "at_least" | "at_most" | "report"
    rel_tol: float = 0.25
    kind: str = ""  # see the module's docstring; "" = from compare and the ID (kind_of)


def _c(id, paper, unit, figure, statement, compare="report", rel_tol=0.25, kind=""):
    return Claim(id, paper, unit, figure, statement, compare, rel_tol, kind)


_CSPDE = {  # the paper's Figure 31 bars, MNAD (u, v)
    "GP": (1.59e-2, 1.62e-2), "NN": (1.53e-2, 1.56e-2), "GP-F1": (1.58e-2, 1.62e-2),
    "NN-F1": (1.54e-2, 1.57e-2), "GP-F2": (2.39e-2, 2.20e-2), "NN-F2": (2.00e-2, 2.11e-2),
    "GP-F3": (3.20e-2, 3.31e-2), "NN-F3": (2.08e-2, 2.16e-2),
}

CLAIMS: tuple[Claim, ...] = (
    # Advection-diffusion 1-D
    _c("AD1.latent_dim", 1, "", "F16, F17", "d_z = 1 suffices; the latent shows the two quasi-stable states",
       kind="count"),
    _c("AD1.wd_m1_latent", None, "", "F18-F20", "WD of the M1 distribution, latent propagation (20 ICs x 400 runs)"),
    _c("AD1.wd_m2_latent", None, "", "F18-F20", "WD of the M2 distribution, latent propagation"),
    _c("AD1.wd_m1_multiscale", None, "", "F18-F20", "WD of M1, multiscale T_m=450, T_mu=50: lower than latent"),
    _c("AD1.wd_m2_multiscale", None, "", "F18-F20", "WD of M2, multiscale: lower than latent"),
    _c("AD1.speedup_latent", 100.0, "x", "F20", "latent LED more than 100x faster than the particle solver",
       "at_least"),
    # Advection-diffusion 3-D
    *(_c(f"AD3.wd_{m}_{v}", None, "", "F3, F21, F25, F26", f"WD of the {m.upper()} distribution, {v}")
      for v in ("latent", "rho5", "rho9") for m in ("m1", "m2")),
    _c("AD3.speedup_latent", 100.0, "x", "F3H, F26", "about 100x for latent propagation", "approx", 0.5),
    _c("AD3.speedup_rho5", None, "x", "F26", "speed-up at rho = 5"),
    _c("AD3.speedup_rho9", None, "x", "F26", "speed-up at rho = 9"),
    _c("AD3.n_metastable_states", 6, "", "F4, F22, F23", "six clusters in the latent PCA", "approx", 0.0, kind="count"),
    _c("AD3.n_metastable_states_truth", 6, "", "F4, F22, F23",
       "the same test on the encoded true run: the structure there is to find", "approx", 0.0, kind="count"),
    _c("AD3.latent_orbit", None, "", "F22",
       "(ours) LED's long latent run against the encoded true run: its period and its distance from the true orbit"),
    _c("AD3.generalize_n400_wd", None, "", "F27, F28", "trained on N=1000, forecasts N=400 with low WD"),
    _c("AD3.pe_wd_m1", None, "", "F5, F29", "WD of M1 per Peclet number: grows with Pe"),
    _c("AD3.pe_wd_m2", None, "", "F5, F29", "WD of M2 per Peclet number: grows with Pe"),
    _c("AD3.pe_speedup", None, "x", "F5, F29", "speed-up per Peclet number: grows as Pe falls"),
    # FitzHugh-Nagumo
    _c("FHN.latent_dim", 8, "", "F30", "d_z = 8 suffices (test MSE ~1e-6)", kind="count"),
    _c("FHN.mnad_u_led", None, "", "F6, F31", "MNAD of u, LED on the test IC to T_f = 451"),
    _c("FHN.mnad_v_led", None, "", "F6, F31", "MNAD of v, LED on the test IC to T_f = 451"),
    _c("FHN.mnad_u_cspde_best", min(u for u, _ in _CSPDE.values()), "", "F6, F31",
       "best coarse-scale PDE (Lee et al. 2020), MNAD of u; LED about 10x lower", "approx", 0.5),
    _c("FHN.mnad_v_cspde_best", min(v for _, v in _CSPDE.values()), "", "F6, F31",
       "best coarse-scale PDE, MNAD of v", "approx", 0.5),
    _c("FHN.mnad_u_led_variants", None, "", "F6, F31", "MNAD of u of every LED variant (AE/VAE, d_z); all below "
       "the CSPDEs"),
    _c("FHN.mnad_v_led_variants", None, "", "F6, F31", "MNAD of v of every LED variant (AE/VAE, d_z); all below "
       "the CSPDEs"),
    *(_c(f"FHN.ratio_{k}_cspde_led", 10 / 2.0, "x", "F6, F31", f"our best CSPDE's MNAD of {k} / our LED's: the "
         "paper's LED is about 10x lower (at least 10 / 2, the error factor, counts)", "at_least", kind="bound")
      for k in "uv"),
    _c("FHN.mnad_u_true_pde", None, "", "F31", "(ours) the true FHN PDE by finite differences against LB, u"),
    _c("FHN.mnad_v_true_pde", None, "", "F31", "(ours) the true FHN PDE by finite differences against LB, v"),
    _c("FHN.mnad_latent_tf8000", 0.04, "", "F7, F34, F35", "100 ICs to T_f = 8000, latent propagation", "approx", 0.5),
    _c("FHN.mnad_rho1_tf8000", 0.01, "", "F7, F34, F35", "100 ICs to T_f = 8000, T_m = T_mu = 10", "approx", 0.5),
    _c("FHN.speedup_latent", 120.0, "x", "F7, F34", "about 120x for latent propagation", "approx", 0.5),
    _c("FHN.speedup_rho1", 2.0, "x", "F7, F34", "about 2x at rho = 1", "approx", 0.5),
    # Kuramoto-Sivashinsky
    _c("KS.lyapunov_exponent", 0.048, "1/time", "§8.4", "largest Lyapunov exponent 0.048 (Lyapunov time 20.83)",
       "approx", 0.1, kind="value"),
    _c("KS.pca_energy_8_modes", 0.998, "", "F43, F44", "the first 8 PCA modes hold 99.8% of the energy",
       "approx", 0.01, kind="value"),
    _c("KS.latent_dim", 8, "", "F37", "d_z = 8 suffices (test MSE ~1e-6)", kind="count"),
    _c("KS.nad_lyapunov_times", 1.0, "Lyapunov times", "F42", "NAD < 0.1 for at least one Lyapunov time",
       "at_least"),
    _c("KS.wd_state_latent", None, "", "F8F, F42", "WD on the state distribution stays small, latent"),
    _c("KS.wd_state_multiscale", None, "", "F8F, F42", "WD on the state distribution stays small, all rho"),
    _c("KS.speedup_latent", 80.0, "x", "F8H, F42", "about 80x (two orders of magnitude) at the paper's dt=0.025",
       "approx", 0.5),
    _c("KS.speedup_latent_dt2.5e-4", 80.0, "x", "F42", "the same against the solver at the authors' step 2.5e-4",
       "approx", 0.5),
    _c("KS.power_spectrum_error", None, "", "F41", "predicted power spectrum matches the true one"),
    _c("KS.power_spectrum_error_resolved", None, "", "F41",
       "(ours) power spectrum over the modes above the decoder's error floor"),
    _c("KS.nad_lyapunov_times_interval", None, "Lyapunov times", "F42",
       "(ours) bootstrap interval of the NAD-0.1 crossing over the ICs"),
    # Tables: hyperparameter grids and the chosen configuration, rendered from ledlib.configs
    *(_c(f"T{n}", None, "", f"Table {n}", "grid and chosen configuration, as trained by the chapter",
         kind="config") for n in TABLES),
)

_BY_ID = {c.id: c for c in CLAIMS}


def claim(claim_id: str) -> Claim:
    if claim_id not in _BY_ID:
        raise ValueError(f"unknown claim ID {claim_id!r}; see ledlib.reproduction.CLAIMS")
    return _BY_ID[claim_id]


def cspde_paper_values() -> dict[str, tuple[float, float]]:
    """The paper's MNAD (u, v) of each coarse-scale PDE variant (its Figure 31)."""
    return dict(_CSPDE)


ERROR_FACTOR = 2.0  # an error (MNAD, WD, MSE) matches within this factor of the paper's, either way
SPEEDUP_FACTOR = 1.5  # a speed-up matches from the paper's / 1.5 up ("about 120x", read off log plots)
KINDS = ("count", "value", "error", "speedup", "bound", "config", "qualitative")

RULES = {
    "count": "a count (latent dimension, number of states) **matches** when it is the paper's, exactly",
    "value": "a physical quantity or fraction **matches** within the relative tolerance stated in its row "
             "(the Lyapunov exponent 10 %, the PCA energy 1 %)",
    "error": f"an error (MNAD, WD, MSE) **matches** within a factor {ERROR_FACTOR:g} of the paper's, "
             "above or below; the ratio ours / paper is shown",
    "speedup": f"a speed-up **matches** when it is at least the paper's / {SPEEDUP_FACTOR:g} (the paper's are "
               "round values read from log plots); one above the paper's matches too, with the ratio shown",
    "bound": "a bound the paper states (\"at least one Lyapunov time\") **matches** when ours satisfies it",
    "config": "a hyperparameter table's pick **matches** when we trained the paper's configuration",
    "qualitative": "where the paper gives no number the verdict is **reported**, and a sentence judges the "
                   "paper's statement from our numbers",
}


def kind_of(claim_id: str) -> str:
    """The kind of a claim: registered, else read from the ID (the chapters' extra rows)."""
    if claim_id in _BY_ID:
        c = _BY_ID[claim_id]
        if c.kind:
            return c.kind
        if c.compare in ("at_least", "at_most"):
            return "speedup" if "speedup" in claim_id else "bound"
        if c.compare == "report" or c.paper is None:
            return "qualitative"
        return "speedup" if "speedup" in claim_id else "error"
    if "speedup" in claim_id:
        return "speedup"
    if re.search(r"mnad|\bwd|_wd|mse|nad|error", claim_id):
        return "error"
    if "latent_dim" in claim_id or re.search(r"\.n_", claim_id):
        return "count"
    return "value"


def _number(v):
    """``v`` as a float where it is a number (JSON may hold 'nan'/'inf' as strings), else None."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str) and v.strip().lower() in ("nan", "inf", "-inf"):
        return float(v)
    return None


def _rule(claim_id: str, ours, paper) -> tuple[str, str]:
    """(verdict, why) of one claim on its own, by the rule of its kind."""
    kind = kind_of(claim_id)
    if ours is None:
        return "not measured", "no chapter has produced this number yet"
    if kind == "config":
        if paper is None:
            return "reported", "the paper does not state the configuration it picked; ours is shown"
        same = str(ours).strip() == str(paper).strip()
        return ("matches", "the paper's configuration") if same else ("differs", "not the paper's configuration")
    x, ref = _number(ours), _number(paper)
    if kind == "qualitative" or paper is None or ref is None:
        return "reported", ""
    if x is None:
        return "differs", f"ours is not a number ({ours!r})"
    if not math.isfinite(x):
        return "differs", f"ours is {x} (the computation blew up)"
    if kind == "count":
        return ("matches" if x == ref else "differs"), ("equal" if x == ref else f"{x:g} vs {ref:g}")
    ratio = x / ref if ref else math.inf
    shown = f"ours / paper = {ratio:.3g}"
    if kind == "value":
        c = _BY_ID.get(claim_id)
        tol = c.rel_tol if c else 0.25
        ok = abs(x - ref) <= tol * abs(ref)
        return ("matches" if ok else "differs"), f"{shown} (tolerance {100 * tol:g} %)"
    if kind == "error":
        ok = ref > 0 and 1 / ERROR_FACTOR <= ratio <= ERROR_FACTOR
        return ("matches" if ok else "differs"), f"{shown} (within a factor {ERROR_FACTOR:g}: {'yes' if ok else 'no'})"
    if kind == "speedup":
        ok = ratio >= 1 / SPEEDUP_FACTOR
        return ("matches" if ok else "differs"), f"{shown}" + (" (above the paper's)" if ratio > 1 else "")
    # bound
    c = _BY_ID.get(claim_id)
    ok = x <= ref if (c and c.compare == "at_most") else x >= ref
    return ("matches" if ok else "differs"), f"{'at most' if c and c.compare == 'at_most' else 'at least'} " \
                                             f"{ref:g}: {'yes' if ok else 'no'} ({x:.3g})"


def verdict(claim_id: str, ours, paper=None) -> str:
    """``"matches"``, ``"differs"``, ``"reported"`` (qualitative) or ``"not measured"``, for a
    registered claim on its own (:func:`judge` also judges twins alike and adds the reason)."""
    c = claim(claim_id)
    return _rule(claim_id, ours, c.paper if paper is None else paper)[0]


def twin(claim_id: str, ids) -> str | None:
    """The u/v twin of a FitzHugh-Nagumo claim among ``ids`` (``mnad_X`` is the u of ``mnad_v_X``)."""
    m = re.fullmatch(r"(FHN\.\w+?)_([uv])_(.+)", claim_id)
    cands = []
    if m:
        other = "v" if m.group(2) == "u" else "u"
        cands.append(f"{m.group(1)}_{other}_{m.group(3)}")
        if m.group(2) == "v":
            cands.append(f"{m.group(1)}_{m.group(3)}")  # the u claim named without "_u"
    elif claim_id.startswith("FHN."):
        head, _, tail = claim_id.partition("_")
        if tail:
            cands.append(f"{head}_v_{tail}")
    return next((c for c in cands if c in ids and c != claim_id), None)


# --- qualitative statements, each judged in a sentence from the scorecard -----------------------
def _ours(card, cid):
    return (card.get(cid) or {}).get("ours")


def _lower_than(other_id, what):
    def judge_(cid, ours, card):
        ref, x = _number(_ours(card, other_id)), _number(ours)
        if ref is None or x is None:
            return f"needs `{other_id}` to compare"
        holds = x < ref
        return f"{'holds' if holds else 'does not hold'}: {x:.3g} is {'lower' if holds else 'not lower'} than " \
               f"{what} ({ref:.3g}, `{other_id}`)"
    return judge_


def _monotone(direction, what):
    def judge_(cid, ours, card):
        if not isinstance(ours, dict):
            return ""
        pts = sorted((float(k), _number(v)) for k, v in ours.items() if _number(v) is not None)
        vals = [v for _, v in pts]
        up = all(b > a for a, b in zip(vals, vals[1:]))
        down = all(b < a for a, b in zip(vals, vals[1:]))
        holds = up if direction == "up" else down
        seq = " → ".join(f"{v:.3g}" for v in vals)
        return f"{'holds' if holds else 'does not hold'}: {what} {seq} for Pe = " + ", ".join(f"{k:g}" for k, _ in pts)
    return judge_


def _below_latent_speedup(cid, ours, card):
    return _lower_than("AD3.speedup_latent", "the latent speed-up")(cid, ours, card).replace(
        "holds", "as the trade-off implies", 1) if _number(_ours(card, "AD3.speedup_latent")) is not None else ""


def _led_vs_cspde(k):
    def judge_(cid, ours, card):
        best, x = _number(_ours(card, f"FHN.mnad_{k}_cspde_best")), _number(ours)
        if best is None or x is None or x <= 0:
            return ""
        r = best / x
        holds = r >= 10 / ERROR_FACTOR
        return (f"{'holds' if holds else 'does not hold'}: LED is {r:.2g}x lower than our best coarse-scale PDE "
                f"({best:.3g}); the paper says about 10x")
    return judge_


def _variants_vs_cspde(k):
    def judge_(cid, ours, card):
        best = _number(_ours(card, f"FHN.mnad_{k}_cspde_best"))
        if not isinstance(ours, dict) or not ours:
            return ""
        vals = {n: _number(v) for n, v in ours.items()}
        ref, what = (best, "our best coarse-scale PDE") if best is not None else (
            min(p[0 if k == "u" else 1] for p in _CSPDE.values()), "the paper's best coarse-scale PDE")
        below = sorted(n for n, v in vals.items() if v is not None and v < ref)
        above = sorted(set(vals) - set(below))
        return (f"{'holds' if not above else 'does not hold'}: {len(below)} of {len(vals)} variants are below "
                f"{what} ({ref:.3g})" + (f"; above it: {', '.join(above)}" if above else ""))
    return judge_


def _orbit(cid, ours, card):
    if not isinstance(ours, dict) or _number(ours.get("model_to_truth")) is None:
        return ""
    p, tp = ours.get("period"), ours.get("true_period")
    d, noise = _number(ours["model_to_truth"]), _number(ours.get("true_return"))
    if p is None or tp is None or noise is None:
        closed, back = "not closed" if p is None else "closed", "does not return" if tp is None else "returns"
        return f"LED's run is {closed}, the true run {back}"
    holds = p == tp and d <= noise
    return (f"{'holds' if holds else 'does not hold'}: LED's run closes after {p:g} samples and the true run returns "
            f"after {tp:g}; LED's orbit lies {d:.2g} from the true one, against the true run's own return {noise:.2g}")


def _against_floor(label):
    def judge_(cid, ours, card):
        note = (card.get(cid) or {}).get("note", "")
        m = re.search(r"(?:truth vs truth|two halves of the truth)[^0-9]*([0-9.]+(?:e-?\d+)?)", note)
        x = _number(ours) if not isinstance(ours, dict) else max((_number(v) or 0) for v in ours.values())
        if not m or x is None:
            return ""
        floor = float(m.group(1))
        return f"{label} {x:.3g} is {x / floor:.2g}x the truth-vs-truth value {floor:.3g} (the sampling floor)"
    return judge_


_JUDGES = {
    "AD1.wd_m1_multiscale": _lower_than("AD1.wd_m1_latent", "latent propagation"),
    "AD1.wd_m2_multiscale": _lower_than("AD1.wd_m2_latent", "latent propagation"),
    **{f"AD3.wd_{m}_{r}": _lower_than(f"AD3.wd_{m}_latent", "latent propagation")
       for m in ("m1", "m2") for r in ("rho5", "rho9")},
    "AD3.speedup_rho5": _below_latent_speedup,
    "AD3.speedup_rho9": _below_latent_speedup,
    "AD3.pe_wd_m1": _monotone("up", "the WD grows with Pe:"),
    "AD3.pe_wd_m2": _monotone("up", "the WD grows with Pe:"),
    "AD3.pe_speedup": _monotone("down", "the speed-up grows as Pe falls:"),
    "AD3.latent_orbit": _orbit,
    "FHN.mnad_u_led": _led_vs_cspde("u"),
    "FHN.mnad_v_led": _led_vs_cspde("v"),
    "FHN.mnad_u_led_variants": _variants_vs_cspde("u"),
    "FHN.mnad_v_led_variants": _variants_vs_cspde("v"),
    "KS.wd_state_latent": _against_floor("the WD"),
    "KS.wd_state_multiscale": _against_floor("the largest WD"),
    "KS.power_spectrum_error": _against_floor("the spectrum error"),
    "KS.power_spectrum_error_resolved": _against_floor("the resolved-mode spectrum error"),
}


def _sentence(cid: str, ours, card: dict, statement: str, figure: str) -> str:
    if cid in _JUDGES:
        said = _JUDGES[cid](cid, ours, card)
        if said:
            return said
    if statement.startswith("(ours)") or "(ours)" in ((card.get(cid) or {}).get("note") or ""):
        return "our addition: the paper has no counterpart"
    if figure:
        return f"the paper shows this only as a curve or bar ({figure}); ours is drawn beside it there"
    return "the paper gives no number for this"


def judge(card: dict) -> dict[str, tuple[str, str]]:
    """Claim ID -> (verdict, reason) for every registered claim and every extra entry of
    ``card``, by :data:`RULES`; twins judged alike."""
    ids = [c.id for c in CLAIMS] + sorted(set(card) - set(_BY_ID))
    out = {}
    for cid in ids:
        e, c = card.get(cid) or {}, _BY_ID.get(cid)
        paper = (c.paper if c else None) if e.get("paper") is None else e["paper"]
        v, why = _rule(cid, e.get("ours"), paper)
        if v == "reported" and kind_of(cid) != "config":
            why = _sentence(cid, e.get("ours"), card, c.statement if c else "", (c.figure if c else e.get("figure", "")))
        out[cid] = (v, why)
    for cid, (v, why) in list(out.items()):
        t = twin(cid, out)
        if t and v in ("matches", "differs") and out[t][0] in ("matches", "differs"):
            both = "matches" if v == out[t][0] == "matches" else "differs"
            if both != v:
                why += f"; judged with its twin `{t}`, which differs"
            out[cid] = (both, why)
    return out


def _fmt(v) -> str:
    if isinstance(v, str):
        return v.replace("|", "\\|")  # a pipe would split the Markdown cell
    if v is None:
        return "–"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def scorecard_rows(card: dict) -> list[dict]:
    """One row per registered claim (in registry order), then any extra keys of ``card``;
    each with its verdict and the reason (computed now, by :data:`RULES`)."""
    judged = judge(card)
    rows = []
    for cid in [c.id for c in CLAIMS] + sorted(set(card) - set(_BY_ID)):
        e, c = card.get(cid, {}), _BY_ID.get(cid)
        paper = (c.paper if c else None) if e.get("paper") is None else e["paper"]
        rows.append({"id": cid, "figure": (c.figure if c else e.get("figure", "")), "statement": c.statement if c else "",
                     "paper": paper, "ours": e.get("ours"), "unit": (c.unit if c else "") or e.get("unit", ""),
                     "profile": e.get("profile", ""), "device": e.get("device", ""), "commit": e.get("commit", ""),
                     "note": e.get("note", ""), "kind": kind_of(cid), "verdict": judged[cid][0],
                     "why": judged[cid][1]})
    return rows


# --- where a number comes from: the systems and their chapters ---------------------------------
SYSTEMS = {  # ID prefix -> (title, chapter page)
    "AD1": ("Advection-diffusion in 1-D", "ad1d"),
    "AD3": ("Advection-diffusion in 3-D", "ad3d"),
    "FHN": ("FitzHugh-Nagumo", "fhn"),
    "KS": ("Kuramoto-Sivashinsky", "ks"),
}
_TABLE_SYSTEM = {1: "AD1", 2: "AD1", 3: "AD3", 4: "AD3", 5: "FHN", 6: "FHN", 7: "KS", 8: "KS"}
_NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def system_of(claim_id: str) -> str:
    m = re.fullmatch(r"T(\d+)", claim_id)
    return _TABLE_SYSTEM.get(int(m.group(1)), "") if m else claim_id.split(".")[0]


def figure_index(notebooks=_NOTEBOOKS) -> dict[int, list[tuple[str, str]]]:
    """Paper figure number -> [(chapter page, figure name)], read from the chapters' sources
    (their figure cells' captions "Paper Figure N ..." and names)."""
    out: dict[int, list[tuple[str, str]]] = {}
    for src in sorted(Path(notebooks).glob("[0-9][0-9]_*.py")):
        page = src.stem.split("_", 1)[1]
        for m in re.finditer(r'"caption":\s*"(Paper Figures? [^":]*)[^"]*".*?"name":\s*"([^"]+)"', src.read_text()):
            head = re.split(r"[,(]|\band\b|\bwith\b", m.group(1))[0] if "(" in m.group(1) else m.group(1)
            nums = [int(n) for n in re.findall(r"\d+", m.group(1))]
            for a, b in re.findall(r"(\d+)[–-](\d+)", head):
                nums += range(int(a), int(b) + 1)
            for n in dict.fromkeys(nums):
                out.setdefault(n, []).append((page, m.group(2)))
    return out


def source_link(row: dict, index: dict | None = None) -> str:
    """A Markdown/HTML link from a row's figure field (e.g. "F18-F20", "Table 7") to the figure
    (or the chapter) it comes from, on the chapter of its system."""
    index = figure_index() if index is None else index
    page = SYSTEMS.get(system_of(row["id"]), ("", ""))[1]
    fig = row.get("figure") or ""
    links = []
    for tok in re.findall(r"F(\d+)[A-Z]?(?:[–-]F?(\d+))?|Table (\d+)|(§[\d.]+)", fig):
        if tok[2] or tok[3]:
            links.append(f"<a href=\"{page}.html\">{tok[2] and 'Table ' + tok[2] or tok[3]}</a>" if page else tok[3])
            continue
        n = int(tok[0])
        label = f"F{tok[0]}" + (f"–{tok[1]}" if tok[1] else "")
        where = index.get(n, [])
        best = next((w for w in where if w[0] == page), where[0] if where else None)
        links.append(f"<a href=\"{best[0]}.html#{best[1]}\">{label}</a>" if best else label)
    return ", ".join(links) or _fmt(fig)


def _anchor(cid: str) -> str:
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]", "-", cid)


def _ours_cell(r: dict) -> str:
    unit = f" {r['unit']}" if r["unit"] and r["ours"] is not None and not isinstance(r["ours"], str) else ""
    text = _fmt(r["ours"]) + unit
    return text if len(text) <= 60 else text[:57] + "…"


def _escape(s: str) -> str:
    return str(s).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def render_scorecard(card: dict, system: str | None = None) -> str:
    """The scorecard as Markdown tables: claim (anchored, linked to its figure), paper, ours,
    verdict (with the reason); the note and provenance fold away under "details". One table
    for ``system`` (an ID prefix of :data:`SYSTEMS`), or all rows when ``None``."""
    rows = [r for r in scorecard_rows(card) if system is None or system_of(r["id"]) == system]
    index = figure_index()
    lines = ["| claim | from | paper | ours | verdict |", "|---|---|---|---|---|"]
    for r in rows:
        prov = ", ".join(x for x in (r["profile"] and f"{r['profile']} profile", r["device"],
                                     r["commit"] and f"commit {r['commit']}") if x)
        more = "; ".join(x for x in (r["note"], prov) if x)
        paper = _fmt(r["paper"])
        paper = paper if len(paper) <= 60 else paper[:57] + "…"
        ours = _ours_cell(r)
        if r["kind"] == "config":  # configurations are sentences: in the note, not the narrow columns
            more = "; ".join(x for x in (f"paper: {_fmt(r['paper'])}" if r["paper"] else "",
                                         f"ours: {_fmt(r['ours'])}", more) if x)
            paper = "the paper's pick" if r["paper"] else "–"
            ours = "the paper's" if r["verdict"] == "matches" else "ours (note)"
        why = f" ({_escape(r['why'])})" if r["why"] else ""
        details = f"<details><summary>note</summary>{_escape(more)}</details>" if more else ""
        lines.append(f"| <a id=\"{_anchor(r['id'])}\"></a>`{r['id']}`: {_escape(r['statement'])} {details} | "
                     f"{source_link(r, index)} | {_escape(paper)} | {_escape(ours)} | "
                     f"**{r['verdict']}**{why} |")
    return "\n".join(lines)


def render_summary(card: dict) -> str:
    """Verdict counts per system and in all, as a Markdown table."""
    rows = scorecard_rows(card)
    verdicts = ("matches", "differs", "reported", "not measured")
    lines = ["| system | " + " | ".join(verdicts) + " | claims |", "|---|" + "---|" * (len(verdicts) + 1)]
    for key, (title, page) in SYSTEMS.items():
        sub = [r for r in rows if system_of(r["id"]) == key]
        lines.append(f"| <a href=\"#system-{key.lower()}\">{title}</a> | " + " | ".join(str(sum(r["verdict"] == v for r in sub))
                                                          for v in verdicts) + f" | {len(sub)} |")
    lines.append("| **all** | " + " | ".join(f"**{sum(r['verdict'] == v for r in rows)}**" for v in verdicts)
                 + f" | **{len(rows)}** |")
    return "\n".join(lines)


def rules_markdown() -> str:
    """The verdict rules, as the scorecard page states them."""
    return "\n".join(f"- **{k}**: {v}." for k, v in RULES.items()) + (
        "\n- **twins** (the u and v of one FitzHugh-Nagumo quantity) are judged alike: both match only if both do."
        "\n- **not measured**: no chapter has produced the number yet.")


HEADLINE = ("AD1.speedup_latent", "AD3.speedup_latent", "AD3.n_metastable_states", "FHN.mnad_latent_tf8000",
            "FHN.speedup_latent", "KS.lyapunov_exponent", "KS.nad_lyapunov_times", "KS.speedup_latent")


def render_headline(card: dict, scorecard_page: str = "scorecard.html") -> str:
    """The introduction's results table (claim, paper, ours, verdict) for :data:`HEADLINE`,
    each row linking to its scorecard row."""
    rows = {r["id"]: r for r in scorecard_rows(card)}
    lines = ["| claim | paper | ours | verdict |", "|---|---|---|---|"]
    for cid in HEADLINE:
        r = rows[cid]
        title = SYSTEMS.get(system_of(cid), (cid,))[0]
        lines.append(f"| <a href=\"{scorecard_page}#{_anchor(cid)}\">{title}: {_escape(r['statement'])}</a> | "
                     f"{_escape(_fmt(r['paper']))} | {_escape(_ours_cell(r))} | **{r['verdict']}** |")
    return "\n".join(lines)
