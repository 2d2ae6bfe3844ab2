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
