"""An uncertainty for LED's latent propagator: a deep ensemble of latent RNNs (issue 13).

:class:`LatentEnsemble` holds ``K >= 2`` LEDs that share one trained autoencoder and differ
in their latent RNN (trained from different seeds through :func:`ledlib.train.fit_rnn`,
cached the same way: :func:`fit_ensemble`). It implements the surrogate protocol of
:func:`ledlib.forecast.forecast`, so it forecasts like one LED:

- every member is fed the same latent state, the ensemble's prediction (the members'
  mean, or member 0), and keeps its own RNN memory; as in AdaLED the members' one-step
  predictions disagree where the training data did not pin the dynamics down;
- the **spread** of the members' predictions in the latent space, ``sqrt(mean_d
  var_k(z_k,d) / s_d^2)`` (``s_d`` the RNN's normalisation std of latent coordinate
  ``d``, the std over the training latents; ``var_k`` over members with ``K - 1``
  degrees of freedom), is the uncertainty: :meth:`LatentEnsemble.spread`, read by
  :class:`ledlib.adaptive.AdaptiveCriterion`; decoded, in the observable:
  :meth:`LatentEnsemble.observable_spread`.

Deviations are taken from member 0 (``z_k - z_0``), so ``K`` identical members have a
spread of exactly zero and forecast exactly as one of them.
"""

from __future__ import annotations

from numbers import Integral
from typing import Any, Sequence

import numpy as np
import torch

from ._checks import finite_array_of, flag, positive, torch_generator

__all__ = ["LatentEnsemble", "EnsembleHidden", "fit_ensemble", "other_seeds", "MAX_MEMBERS"]

# More members than this cost more than they tell: the spread's relative error falls as
# 1/sqrt(2(K-1)), 5 % at K = 200.
MAX_MEMBERS = 256
_PREDICTIONS = ("mean", "first")


def _check_K(K, what: str = "K") -> int:
    if isinstance(K, bool) or not isinstance(K, Integral) or not 2 <= K <= MAX_MEMBERS:
        raise ValueError(f"{what} must be an integer in [2, {MAX_MEMBERS}] (an ensemble needs two members to "
                         f"have a spread), got {K!r}")
    return int(K)


class EnsembleHidden:
    """The ensemble's memory: each member's RNN hidden state (``members``, in
    ``nn.LSTM``/``GRU`` format) and the members' latest predictions ``z (K, B, d_z)``
    (``None`` before the first step). After a batched step the hidden states are held
    stacked, ``(K, B, d_h)``, and converted to the members' format only when asked."""

    def __init__(self, members: tuple | None = None, z: torch.Tensor | None = None, *, stacked=None,
                 cell: str | None = None):
        if members is None and stacked is None:
            raise ValueError("EnsembleHidden needs the members' hidden states or their stacked form")
        self._members, self.z, self._stacked, self._cell = members, z, stacked, cell

    @property
    def members(self) -> tuple:
        if self._members is None:
            h, c = self._stacked
            if self._cell == "lstm":
                self._members = tuple((h[k][None], c[k][None]) for k in range(h.shape[0]))
            else:
                self._members = tuple(h[k][None] for k in range(h.shape[0]))
        return self._members

    def stacked(self, cell: str, shape: tuple, like: torch.Tensor):
        """``(h, c)`` stacked over members, ``(K, B, d_h)`` (``c`` is ``None`` for a GRU);
        zeros for members that have no state yet."""
        if self._stacked is not None:
            return self._stacked
        zeros = like.new_zeros(shape)
        hs, cs = [], []
        for m in self.members:
            if m is None:
                hs.append(zeros)
                cs.append(zeros)
            elif cell == "lstm":
                hs.append(m[0][0])
                cs.append(m[1][0])
            else:
                hs.append(m[0])
        return torch.stack(hs), (torch.stack(cs) if cell == "lstm" else None)


class _StackedCells:
    """The members' single-layer RNN cells and readouts stacked along a member axis, so
    that one latent step of all ``K`` members is a few batched matrix products instead of
    ``K`` separate cell calls (at small batch a step is bound by per-call overhead). The
    arithmetic is ``torch.lstm_cell``/``gru_cell``'s, in the members' normalised units."""

    def __init__(self, rnns: list):
        core = [r.core for r in rnns]
        self.cell, self.d_h, self.residual = rnns[0].cell, rnns[0].d_h, rnns[0].residual
        self.W_ih = torch.stack([c.weight_ih_l0 for c in core]).transpose(1, 2)  # (K, d_z, G)
        self.W_hh = torch.stack([c.weight_hh_l0 for c in core]).transpose(1, 2)  # (K, d_h, G)
        self.b_ih = torch.stack([c.bias_ih_l0 for c in core])[:, None]  # (K, 1, G)
        self.b_hh = torch.stack([c.bias_hh_l0 for c in core])[:, None]
        self.W = torch.stack([r.readout.weight for r in rnns]).transpose(1, 2)  # (K, d_h, d_z)
        self.mean = torch.stack([r.z_mean for r in rnns])[:, None]  # (K, 1, d_z)
        self.std = torch.stack([r.z_std for r in rnns])[:, None]

    @staticmethod
    def eligible(rnns: list) -> bool:
        first = rnns[0]
        return all(r.n_layers == 1 and r.cell == first.cell and r.d_h == first.d_h and r.residual == first.residual
                   and r.core.bias for r in rnns)

    def step(self, z: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None):
        """All members from the same ``z (B, d_z)``: ``(z_k (K, B, d_z), h, c)``."""
        u = (z[None] - self.mean) / self.std  # (K, B, d_z)
        gi = torch.baddbmm(self.b_ih, u, self.W_ih)
        gh = torch.baddbmm(self.b_hh, h, self.W_hh)
        if self.cell == "lstm":
            i, f, g, o = (gi + gh).chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        else:
            ir, iz, in_ = gi.chunk(3, dim=-1)
            hr, hz, hn = gh.chunk(3, dim=-1)
            r, zg = torch.sigmoid(ir + hr), torch.sigmoid(iz + hz)
            n = torch.tanh(in_ + r * hn)
            h = (1 - zg) * n + zg * h
        out = torch.bmm(h, self.W)
        u = u + out if self.residual else out
        return u * self.std + self.mean, h, c


class LatentEnsemble:
    """``LatentEnsemble(leds, prediction="mean")``: the LEDs must share the autoencoder
    (equal weights and scaling) and the latent size; ``prediction`` ``"mean"`` or
    ``"first"`` (member 0; the others only give the spread)."""

    def __init__(self, leds: Sequence, prediction: str = "mean"):
        if isinstance(leds, (str, bytes)) or hasattr(leds, "encode") and hasattr(leds, "rnn"):
            raise TypeError(f"leds must be a sequence of LED models, got {type(leds).__name__}")
        try:
            leds = list(leds)
        except TypeError:
            raise TypeError(f"leds must be a sequence of LED models, got {type(leds).__name__}") from None
        _check_K(len(leds), "the number of leds K")
        if not isinstance(prediction, str) or prediction not in _PREDICTIONS:
            raise ValueError(f"prediction must be one of {_PREDICTIONS}, got {prediction!r}")
        for i, m in enumerate(leds):
            for attr in ("autoencoder", "rnn", "encode", "decode", "step", "warm_up"):
                if not hasattr(m, attr):
                    raise TypeError(f"leds[{i}] must be an LED (it lacks {attr}), got {type(m).__name__}")
        first = leds[0]
        ref = first.autoencoder.state_dict()
        for i, m in enumerate(leds[1:], start=1):
            if m.d_z != first.d_z or tuple(m.obs_shape) != tuple(first.obs_shape):
                raise ValueError(f"leds[{i}] has d_z={m.d_z}, obs_shape={m.obs_shape}; leds[0] has "
                                 f"d_z={first.d_z}, obs_shape={first.obs_shape}")
            if m.device != first.device:
                raise ValueError(f"leds[{i}] is on {m.device}, leds[0] on {first.device}: move them to one device")
            other = m.autoencoder.state_dict()
            same = other.keys() == ref.keys() and all(torch.equal(other[k], ref[k]) for k in ref)
            same = same and torch.equal(m.scale_a, first.scale_a) and torch.equal(m.scale_b, first.scale_b)
            if not same:
                raise ValueError(f"leds[{i}] has another autoencoder or scaling than leds[0]: the members "
                                 "must share one autoencoder (train them with fit_ensemble)")
        self.members = leds
        self.prediction = prediction
        self._stacked: _StackedCells | None = None
        self.stacked_steps = _StackedCells.eligible([m.rnn for m in leds])

    # -- structure ----------------------------------------------------------------
    @property
    def K(self) -> int:
        return len(self.members)

    @property
    def d_z(self) -> int:
        return self.members[0].d_z

    @property
    def obs_shape(self) -> tuple:
        return tuple(self.members[0].obs_shape)

    @property
    def is_particle(self) -> bool:
        return bool(self.members[0].is_particle)

    @property
    def device(self) -> torch.device:
        return self.members[0].device

    @property
    def config(self):
        return self.members[0].config

    @property
    def latent_scale(self) -> torch.Tensor:
        """Per-coordinate latent scale of spreads and comparison errors: member 0's RNN
        normalisation std (all members are trained on the same latents)."""
        return self.members[0].rnn.z_std

    def to(self, device) -> "LatentEnsemble":
        for m in self.members:
            m.to(device)
        self._stacked = None
        return self

    def restack(self) -> None:
        """Forget the stacked copy of the members' weights (call after changing them)."""
        self._stacked = None

    def eval(self) -> "LatentEnsemble":
        for m in self.members:
            m.eval()
        return self

    def __repr__(self) -> str:
        return f"LatentEnsemble(K={self.K}, d_z={self.d_z}, prediction={self.prediction!r}, device={self.device})"

    # -- the surrogate protocol ----------------------------------------------------
    def encode(self, x, **kw) -> torch.Tensor:
        return self.members[0].encode(x, **kw)

    def decode(self, z, n_particles: int | None = None, generator: torch.Generator | None = None, **kw):
        return self.members[0].decode(z, n_particles=n_particles, generator=generator, **kw)

    def _predict(self, z: torch.Tensor) -> torch.Tensor:
        if self.prediction == "first":
            return z[0]
        return z[0] + (z - z[0]).mean(dim=0)  # the mean, exactly z_0 when the members agree

    def _combine(self, zs: list[torch.Tensor], members: list) -> tuple[torch.Tensor, EnsembleHidden]:
        z = torch.stack(zs)  # (K, B, d_z)
        return self._predict(z), EnsembleHidden(tuple(members), z)

    def _members_hidden(self, hidden) -> tuple:
        if hidden is None:
            return (None,) * self.K
        if not isinstance(hidden, EnsembleHidden) or len(hidden.members) != self.K:
            raise ValueError(f"hidden must be None or the EnsembleHidden of a {self.K}-member ensemble")
        return hidden.members

    @torch.no_grad()
    def step(self, z, hidden=None) -> tuple[torch.Tensor, EnsembleHidden]:
        """One latent step of every member from the same ``z (B, d_z)`` (one batched step
        of the stacked cells when every member is a single-layer RNN of one kind and size;
        their weights are stacked at the first step: :meth:`restack` after changing them)."""
        if self.stacked_steps:
            z = self.members[0]._latent("z", z)  # a finite (B, d_z) tensor on the members' device
            if hidden is not None and (not isinstance(hidden, EnsembleHidden) or len(hidden.members) != self.K):
                raise ValueError(f"hidden must be None or the EnsembleHidden of a {self.K}-member ensemble")
            if self._stacked is None:
                self._stacked = _StackedCells([m.rnn for m in self.members])
            cells = self._stacked
            shape = (self.K, z.shape[0], cells.d_h)
            h, c = (z.new_zeros(shape), z.new_zeros(shape) if cells.cell == "lstm" else None) if hidden is None \
                else hidden.stacked(cells.cell, shape, z)
            zk, h, c = cells.step(z, h, c)
            return self._predict(zk), EnsembleHidden(z=zk, stacked=(h, c), cell=cells.cell)
        zs, hs = [], []
        for m, h in zip(self.members, self._members_hidden(hidden)):
            zk, hk = m.step(z, h)
            zs.append(zk)
            hs.append(hk)
        return self._combine(zs, hs)

    @torch.no_grad()
    def warm_up(self, z_seq, hidden=None) -> tuple[torch.Tensor, EnsembleHidden]:
        """Teacher forcing of every member on ``z_seq (B, T, d_z)``."""
        z_seq = self.members[0]._latent("z_seq", z_seq, ndim=3)
        zs, hs = [], []
        for m, h in zip(self.members, self._members_hidden(hidden)):
            zk, hk = m.warm_up(z_seq, h)
            zs.append(zk)
            hs.append(hk)
        return self._combine(zs, hs)

    # -- the uncertainty -------------------------------------------------------------
    def member_predictions(self, hidden: EnsembleHidden) -> torch.Tensor:
        """The members' latest predictions ``(K, B, d_z)``."""
        if not isinstance(hidden, EnsembleHidden) or hidden.z is None:
            raise ValueError("hidden must be an EnsembleHidden after at least one step or warm-up")
        return hidden.z

    def spread(self, hidden: EnsembleHidden) -> torch.Tensor:
        """Latent spread of the members' latest predictions, one value per batch member
        ``(B,)``, in units of the latent coordinates' training std (see the module doc)."""
        z = self.member_predictions(hidden)
        # unchecked: a NaN prediction gives a NaN spread, which stops a macro phase (ledlib.adaptive)
        return _spread(z, self.latent_scale.to(z.dtype))

    @torch.no_grad()
    def observable_spread(self, hidden: EnsembleHidden, generator: torch.Generator | None = None) -> np.ndarray:
        """The members' predictions decoded, their std over members (``K - 1`` degrees of
        freedom) averaged over the observable, ``(B,)`` in physical units. Particle decoders
        sample configurations, whose per-particle differences are noise: their spread is that
        of the first two moments (mean and variance over particles) instead."""
        z = self.member_predictions(hidden)
        torch_generator("generator", generator)
        x = torch.stack([torch.as_tensor(self.decode(zk, generator=generator)) for zk in z])  # (K, B, ...)
        if self.is_particle:
            x = torch.cat([x.mean(dim=-2), x.var(dim=-2)], dim=-1)
        d = x - x[0]
        std = torch.sqrt(((d - d.mean(dim=0)) ** 2).sum(dim=0) / (self.K - 1))
        return std.reshape(std.shape[0], -1).mean(dim=1).cpu().numpy()


def latent_spread(z: torch.Tensor, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
    """``sqrt(mean_d var_k(z_k,d / s_d))`` of members' states ``z (K, B, d_z)`` -> ``(B,)``,
    the variance over ``k`` with ``K - 1`` degrees of freedom, deviations from member 0."""
    if not isinstance(z, torch.Tensor):
        z = torch.as_tensor(finite_array_of("z", z))  # its dtype kept
    elif z.dtype.is_complex:
        raise TypeError(f"z must be a real tensor, got dtype {z.dtype}")
    if z.ndim != 3 or z.shape[0] < 2:
        raise ValueError(f"z must have shape (K >= 2, B, d_z), got {tuple(z.shape)}")
    if not bool(torch.isfinite(z).all()):
        raise ValueError("z must be finite: it holds NaN or infinite values")
    if isinstance(scale, torch.Tensor):
        ok = not scale.dtype.is_complex and bool(torch.isfinite(scale).all()) and bool((scale > 0).all())
        if not ok:
            raise ValueError("scale must hold finite numbers > 0")
    else:
        scale = positive("scale", scale)
    return _spread(z, scale)


def _spread(z: torch.Tensor, scale) -> torch.Tensor:
    u = z / scale
    d = u - u[0]
    var = ((d - d.mean(dim=0)) ** 2).sum(dim=0) / (z.shape[0] - 1)
    return torch.sqrt(var.mean(dim=-1))


def other_seeds(seed: int, own: int, n: int) -> list[int]:
    """The ``n`` seeds from ``seed`` on, leaving out ``own`` (the seed of the RNN an
    ensemble already has): ``seed + 1 .. seed + n`` when ``own == seed``."""
    for name, v in (("seed", seed), ("own", own), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, Integral) or v < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {v!r}")
    return [s for s in range(seed, seed + n + 1) if s != own][:n]


def fit_ensemble(led, dataset, K: int, *, rnn_config=None, cache=None, seed: int = 0, device: str = "auto",
                 progress: bool = True, prediction: str = "mean", include_led: bool = False,
                 seeds=None) -> tuple[LatentEnsemble, list[dict[str, Any]]]:
    """``K`` latent RNNs on ``led``'s trained autoencoder, member ``k`` trained by
    :func:`ledlib.train.fit_rnn` with seed ``seed + k`` (each cached as that function caches
    one RNN, so a second call loads them). ``rnn_config`` defaults to ``led``'s.
    ``include_led``: member 0 is ``led`` itself (its own RNN, e.g. from
    :func:`ledlib.train.fit_led`; its record is ``None``), members ``1..K-1`` are trained as
    above: one training fewer. ``seeds``: the trained members' seeds instead (distinct, one
    per trained member), e.g. to leave out the seed of ``led``'s own RNN. Returns the
    ensemble and the members' training records."""
    from . import train

    from .configs import RNNConfig

    K = _check_K(K)
    if isinstance(seed, bool) or not isinstance(seed, Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    for attr in ("config", "autoencoder", "rnn", "encode"):
        if not hasattr(led, attr):
            raise TypeError(f"led must be an LED with a trained autoencoder (it lacks {attr}), got "
                            f"{type(led).__name__}")
    if rnn_config is not None and not isinstance(rnn_config, RNNConfig):
        raise TypeError(f"rnn_config must be None (led's) or an RNNConfig, got {type(rnn_config).__name__}")
    progress, include_led = flag("progress", progress), flag("include_led", include_led)
    if not isinstance(prediction, str) or prediction not in _PREDICTIONS:
        raise ValueError(f"prediction must be one of {_PREDICTIONS}, got {prediction!r}")
    rnn_config = led.config.rnn if rnn_config is None else rnn_config
    first = 1 if include_led else 0
    if seeds is None:
        seeds = [int(seed) + k for k in range(first, K)]
    else:
        seeds = list(seeds) if isinstance(seeds, (list, tuple)) else seeds
        if (not isinstance(seeds, list) or len(seeds) != K - first or len(set(seeds)) != len(seeds)
                or any(isinstance(s, bool) or not isinstance(s, Integral) or s < 0 for s in seeds)):
            raise ValueError(f"seeds must be None or {K - first} distinct integers >= 0 (one per trained member), "
                             f"got {seeds!r}")
    members, records = ([led.eval()], [None]) if include_led else ([], [])
    for member_seed in seeds:
        m, rec = train.fit_rnn(led, rnn_config, dataset, cache=cache, seed=int(member_seed), device=device,
                               progress=progress)
        members.append(m.eval())
        records.append(rec)
    return LatentEnsemble(members, prediction=prediction), records
