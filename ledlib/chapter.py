"""What every chapter of the book sets up, in one place.

A chapter's first code cell is ``ch = chapter.setup(profile, device, results_dir=...,
cache_dir=...)``; it then records into the scorecard with ``ch.record(claim, ours, ...)``
(the profile and device filled in), names a configuration with :func:`config_summary`,
reports a fit with :func:`training_report` and shows a paper table with
:func:`paper_table`.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from . import scorecard
from .paper.common import PROFILES

__all__ = ["Chapter", "setup", "config_summary", "training_report", "paper_table"]


@dataclass
class Chapter:
    """One chapter's execution: ``profile`` (``"quick"`` or ``"paper"``), the resolved
    ``device`` (a ``torch.device``), ``results_dir`` (the scorecard's folder) and
    ``cache`` (the data and model cache; ``None``: ``$LED_CACHE_DIR`` or ``.cache/``).
    ``recorded`` maps each claim this execution recorded to its value (the scorecard
    file may hold other runs' entries); ``walls`` each :meth:`stage`'s wall time (s)."""

    profile: str
    device: object
    results_dir: str
    cache: str | None
    recorded: dict = field(default_factory=dict)
    walls: dict = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        """Time the block under ``name`` (added up if a name comes back)."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty string, got {name!r}")
        start = time.perf_counter()
        try:
            yield
        finally:
            self.walls[name] = self.walls.get(name, 0.0) + time.perf_counter() - start

    def stage_report(self) -> str:
        """One line: the wall time of every stage timed so far, in order."""
        return "wall time per stage: " + ", ".join(f"{k} {v:.1f} s" for k, v in self.walls.items())

    @property
    def paper(self) -> bool:
        """Whether this is the paper profile."""
        return self.profile == "paper"

    def record(self, claim: str, ours, *, from_claims: bool = False, **kw) -> None:
        """Write ``claim`` into the scorecard with this chapter's profile and device.
        ``from_claims``: fill ``paper``, ``figure`` and ``unit`` not given from the claim
        of that ID in :data:`ledlib.reproduction.CLAIMS` (if there is one). Returns nothing,
        so that a cell ending in a record shows no output (the entry is in the file)."""
        if from_claims:
            from . import reproduction

            c = reproduction.claim(claim) if claim in {c.id for c in reproduction.CLAIMS} else None
            kw.setdefault("paper", c.paper if c else None)
            kw.setdefault("figure", c.figure if c else "")
            kw.setdefault("unit", c.unit if c else "")
        scorecard.record(self.results_dir, claim, ours, profile=self.profile, device=str(self.device), **kw)
        self.recorded[claim] = ours


def setup(profile: str, device: str = "auto", *, results_dir="book/results", cache_dir: str = "",
          threads: int = 1, dpi: int = 90, font_size: int = 9) -> Chapter:
    """Check ``profile``, resolve ``device``, and set what every chapter sets: ``threads``
    torch threads (small networks: per-op overhead dominates; one thread matches the
    NumPy solvers) and the figures' ``dpi`` and ``font_size`` on screen. ``cache_dir``
    ``""`` means the default cache."""
    if not isinstance(profile, str) or profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if not isinstance(cache_dir, str):
        raise TypeError(f"cache_dir must be a string ('' for the default cache), got {type(cache_dir).__name__}")
    for name, v in (("threads", threads), ("dpi", dpi), ("font_size", font_size)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    import torch
    from matplotlib import pyplot as plt

    from .device import resolve_device

    dev = resolve_device(device)
    torch.set_num_threads(threads)
    plt.rcParams.update({"figure.dpi": dpi, "font.size": font_size})
    return Chapter(profile, dev, str(results_dir), cache_dir or None)


def config_summary(cfg) -> str:
    """One line naming an LED configuration in the paper tables' terms: the autoencoder,
    then (after ``;``) the RNN and its training windows."""
    from .configs import LEDConfig

    if not isinstance(cfg, LEDConfig):
        raise TypeError(f"cfg must be a ledlib.configs.LEDConfig, got {type(cfg).__name__}")
    a, r, ta, tr = cfg.ae, cfg.rnn, cfg.ae_train, cfg.rnn_train
    kind = "VAE" if a.variational else "AE"
    if a.kind == "particle":
        return (f"{kind}, permutation-invariant encoder {a.n_layers}x{a.width} "
                f"{a.activation} -> d_p={a.d_p}, d_z={a.d_z}, mixture decoder K={a.n_kernels} "
                f"({a.md_hidden} hidden), weight decay {ta.weight_decay:g}; {r.cell.upper()} "
                f"{r.n_layers}x{r.d_h}, BPTT {tr.bptt}, hidden propagation {tr.hidden_propagation_length}")
    return (f"{kind} {a.n_layers}x{a.width} {a.activation}{' residual' if a.residual else ''}, d_z={a.d_z}, "
            f"noise {100 * ta.noise_level:g}%, weight decay {ta.weight_decay:g}; {r.cell.upper()} "
            f"{r.n_layers}x{r.d_h} ({'residual readout' if r.residual else 'readout W h, eq. 16'}), "
            f"BPTT {tr.bptt}, hidden propagation {tr.hidden_propagation_length}")


def training_report(fitted) -> str:
    """The two training stages of a fit (:class:`ledlib.train.FittedLED`), a line each:
    best validation loss, its epoch, the epochs run, the wall time and the device."""
    lines = []
    for stage, rec in (("autoencoder", getattr(fitted, "ae", None)), ("RNN", getattr(fitted, "rnn", None))):
        if not isinstance(rec, dict):
            raise TypeError(f"fitted must carry the training records .ae and .rnn (dicts), got {type(fitted).__name__}")
        lines.append(f"{stage}: best validation loss {rec['best_val_loss']:.3g} at epoch {rec['best_epoch']} of "
                     f"{rec['epochs_run']}, {rec['wall_time_s']:.0f} s on {rec['device']}"
                     + (" (loaded from the cache)" if fitted.from_cache else ""))
    return "\n".join(lines)


def paper_table(number: int):
    """Paper Table ``number`` as Markdown, the paper's pick in bold."""
    from IPython.display import Markdown

    from .configs import render_table

    head, body = render_table(number, mark_selected=True).split("\n", 1)
    return Markdown(f"Paper {head} (bold: the paper's pick).\n{body}")
