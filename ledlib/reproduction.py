"""What the book reproduces: the paper's claims, figures and tables, and the verdicts.

Each claim has the ID the scorecard uses, the paper's value and how to compare ours
with it: ``"approx"`` (ours within ``rel_tol`` of the paper's), ``"at_least"`` /
``"at_most"`` (the paper states a bound), or ``"report"`` (the paper makes a qualitative
statement, or it is our own addition: the number is shown, the verdict is in the note).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Claim", "CLAIMS", "FIGURES", "TABLES", "claim", "verdict"]

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


def _c(id, paper, unit, figure, statement, compare="report", rel_tol=0.25):
    return Claim(id, paper, unit, figure, statement, compare, rel_tol)


_CSPDE = {  # the paper's Figure 31 bars, MNAD (u, v)
    "GP": (1.59e-2, 1.62e-2), "NN": (1.53e-2, 1.56e-2), "GP-F1": (1.58e-2, 1.62e-2),
    "NN-F1": (1.54e-2, 1.57e-2), "GP-F2": (2.39e-2, 2.20e-2), "NN-F2": (2.00e-2, 2.11e-2),
    "GP-F3": (3.20e-2, 3.31e-2), "NN-F3": (2.08e-2, 2.16e-2),
}

CLAIMS: tuple[Claim, ...] = (
    # Advection-diffusion 1-D
    _c("AD1.latent_dim", 1, "", "F16, F17", "d_z = 1 suffices; the latent shows the two quasi-stable states"),
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
    _c("AD3.n_metastable_states", 6, "", "F4, F22, F23", "six clusters in the latent PCA", "approx", 0.0),
    _c("AD3.generalize_n400_wd", None, "", "F27, F28", "trained on N=1000, forecasts N=400 with low WD"),
    _c("AD3.pe_wd_m1", None, "", "F5, F29", "WD of M1 per Peclet number: grows with Pe"),
    _c("AD3.pe_wd_m2", None, "", "F5, F29", "WD of M2 per Peclet number: grows with Pe"),
    _c("AD3.pe_speedup", None, "x", "F5, F29", "speed-up per Peclet number: grows as Pe falls"),
    # FitzHugh-Nagumo
    _c("FHN.latent_dim", 8, "", "F30", "d_z = 8 suffices (test MSE ~1e-6)"),
    _c("FHN.mnad_u_led", None, "", "F6, F31", "MNAD of u, LED on the test IC to T_f = 451"),
    _c("FHN.mnad_v_led", None, "", "F6, F31", "MNAD of v, LED on the test IC to T_f = 451"),
    _c("FHN.mnad_u_cspde_best", min(u for u, _ in _CSPDE.values()), "", "F6, F31",
       "best coarse-scale PDE (Lee et al. 2020), MNAD of u; LED about 10x lower", "approx", 0.5),
    _c("FHN.mnad_v_cspde_best", min(v for _, v in _CSPDE.values()), "", "F6, F31",
       "best coarse-scale PDE, MNAD of v", "approx", 0.5),
    _c("FHN.mnad_u_true_pde", None, "", "F31", "(ours) the true FHN PDE by finite differences against LB, u"),
    _c("FHN.mnad_v_true_pde", None, "", "F31", "(ours) the true FHN PDE by finite differences against LB, v"),
    _c("FHN.mnad_latent_tf8000", 0.04, "", "F7, F34, F35", "100 ICs to T_f = 8000, latent propagation", "approx", 0.5),
    _c("FHN.mnad_rho1_tf8000", 0.01, "", "F7, F34, F35", "100 ICs to T_f = 8000, T_m = T_mu = 10", "approx", 0.5),
    _c("FHN.speedup_latent", 120.0, "x", "F7, F34", "about 120x for latent propagation", "approx", 0.5),
    _c("FHN.speedup_rho1", 2.0, "x", "F7, F34", "about 2x at rho = 1", "approx", 0.5),
    # Kuramoto-Sivashinsky
    _c("KS.lyapunov_exponent", 0.048, "1/time", "§8.4", "largest Lyapunov exponent 0.048 (Lyapunov time 20.83)",
       "approx", 0.1),
    _c("KS.pca_energy_8_modes", 0.998, "", "F43, F44", "the first 8 PCA modes hold 99.8% of the energy",
       "approx", 0.01),
    _c("KS.latent_dim", 8, "", "F37", "d_z = 8 suffices (test MSE ~1e-6)"),
    _c("KS.nad_lyapunov_times", 1.0, "Lyapunov times", "F42", "NAD < 0.1 for at least one Lyapunov time",
       "at_least"),
    _c("KS.wd_state_latent", None, "", "F8F, F42", "WD on the state distribution stays small, latent"),
    _c("KS.wd_state_multiscale", None, "", "F8F, F42", "WD on the state distribution stays small, all rho"),
    _c("KS.speedup_latent", 80.0, "x", "F8H, F42", "about 80x (two orders of magnitude) at the paper's dt=0.025",
       "approx", 0.5),
    _c("KS.speedup_latent_dt2.5e-4", 80.0, "x", "F42", "the same against the solver at the authors' step 2.5e-4",
       "approx", 0.5),
    _c("KS.power_spectrum_error", None, "", "F41", "predicted power spectrum matches the true one"),
    # Tables: hyperparameter grids and the chosen configuration, rendered from ledlib.configs
    *(_c(f"T{n}", None, "", f"Table {n}", "grid and chosen configuration, as trained by the chapter")
      for n in TABLES),
)

_BY_ID = {c.id: c for c in CLAIMS}


def claim(claim_id: str) -> Claim:
    if claim_id not in _BY_ID:
        raise ValueError(f"unknown claim ID {claim_id!r}; see ledlib.reproduction.CLAIMS")
    return _BY_ID[claim_id]


def cspde_paper_values() -> dict[str, tuple[float, float]]:
    """The paper's MNAD (u, v) of each coarse-scale PDE variant (its Figure 31)."""
    return dict(_CSPDE)


def verdict(claim_id: str, ours) -> str:
    """``"matches"``, ``"differs"``, ``"reported"`` (qualitative) or ``"not measured"``."""
    c = claim(claim_id)
    if ours is None:
        return "not measured"
    if c.compare == "report" or not isinstance(ours, (int, float)) or not isinstance(c.paper, (int, float)):
        return "reported"
    if not math.isfinite(ours):
        return "differs"
    if c.compare == "at_least":
        return "matches" if ours >= c.paper else "differs"
    if c.compare == "at_most":
        return "matches" if ours <= c.paper else "differs"
    return "matches" if abs(ours - c.paper) <= c.rel_tol * abs(c.paper) else "differs"


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
    """One row per registered claim (in registry order), then any extra keys of ``card``."""
    rows = []
    for c in CLAIMS:
        e = card.get(c.id, {})
        rows.append({"id": c.id, "figure": c.figure, "statement": c.statement,
                     "paper": c.paper if e.get("paper") is None else e["paper"], "ours": e.get("ours"),
                     "unit": c.unit or e.get("unit", ""), "profile": e.get("profile", ""),
                     "device": e.get("device", ""), "commit": e.get("commit", ""), "note": e.get("note", ""),
                     "verdict": verdict(c.id, e.get("ours"))})
    for key in sorted(set(card) - set(_BY_ID)):
        e = card[key]
        rows.append({"id": key, "figure": e.get("figure", ""), "statement": "", "paper": e.get("paper"),
                     "ours": e.get("ours"), "unit": e.get("unit", ""), "profile": e.get("profile", ""),
                     "device": e.get("device", ""), "commit": e.get("commit", ""), "note": e.get("note", ""),
                     "verdict": "reported"})
    return rows


def render_scorecard(card: dict) -> str:
    """The scorecard as a Markdown table (claim, figure, paper, ours, verdict, provenance, note)."""
    head = "| claim | figure | paper | ours | verdict | profile / device / commit | note |\n|---|---|---|---|---|---|---|"
    lines = [head]
    for r in scorecard_rows(card):
        unit = f" {r['unit']}" if r["unit"] and r["ours"] is not None else ""
        prov = " / ".join(x for x in (r["profile"], r["device"], f"`{r['commit']}`" if r["commit"] else "") if x)
        lines.append(f"| `{r['id']}` | {r['figure']} | {_fmt(r['paper'])} | {_fmt(r['ours'])}{unit} | "
                     f"{r['verdict']} | {prov} | {_fmt(r['note'] or r['statement'])} |")
    return "\n".join(lines)
