"""The chapters' model studies and their pretraining (``ledlib.studies``, ``scripts/pretrain.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ledlib import configs, studies, train

ROOT = Path(__file__).resolve().parent.parent


def _key(job_config, system):
    from ledlib import data

    return train.model_key(job_config, data.spec(system, job_config.profile).key(), 0)


def test_study_jobs_are_distinct_and_cover_the_grids():
    for profile in configs.PROFILES:
        fhn = studies.jobs("FHN", profile)
        names = [j.name for j in fhn]
        assert len(set(names)) == len(names)
        base = configs.get("FHN", profile)
        variants = set(studies.FHN_LED_VARIANTS[profile]) | {(base.ae.d_z, base.ae.variational)}
        latent = {(d, v) for v in (False, True) for d in studies.FHN_LATENT_GRID[profile]} - variants
        # each variant also with the paper's readout (eq. 16), the base one on the main LED's autoencoder
        eq16 = [j.name for j in fhn if j.name.endswith("-eq16")]
        assert len(eq16) == len(studies.FHN_LED_VARIANTS[profile])
        assert len(fhn) == len(studies.FHN_NOISE_GRID[profile]) + len(variants) - 1 + len(latent) + len(eq16)
        ks = studies.jobs("KS", profile)
        # the main LED is one of the grid; the last job is its autoencoder without input noise
        assert len(ks) == 2 * len(studies.KS_LATENT_GRID[profile]) + 1 and ks[-1].name == "KS-AE-8-no-noise"
    # the FHN noise-search job at the configured noise level is the chapter's main LED
    cfg = configs.get("FHN", "quick")
    main = studies.fhn_config(cfg, cfg.ae.d_z, cfg.ae.variational, cfg.rnn_train.noise_level)
    assert _key(main, "FHN") == _key(cfg, "FHN")
    assert _key(studies.fhn_config(cfg, 4, False, 0.01, full=False), "FHN") != _key(cfg, "FHN")


def test_pretrained_model_is_what_a_chapter_loads(tmp_path):
    """scripts/pretrain.py trains into the cache; fit_led (what the chapters call) then loads it."""
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "pretrain.py"), "--profile", "quick",
                          "--device", "cpu", "--cache-dir", str(tmp_path), "AD1D"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "AD1D: ok" in out.stdout
    fitted = train.fit_led("AD1D", "quick", cache=tmp_path, device="cpu", progress=False)
    assert fitted.from_cache
    assert fitted.ae["torch"] and fitted.ae["device"] == "cpu"
