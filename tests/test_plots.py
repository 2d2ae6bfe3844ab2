"""The book's figures as a reader meets them: legible at the page's width (780 px), no
squeezed rows, 3-D scatters with axes and zoomed point clouds, dense series thinned and
said so, the paper's numbers drawn beside ours from the scorecard's registry, legends in
the curves' colours. Every chapter figure is drawn from the small synthetic inputs of
tests/plot_cases.py."""

from __future__ import annotations

import dataclasses
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
import plot_cases  # noqa: E402

from ledlib import plots, reproduction  # noqa: E402

plt.rcParams["figure.max_open_warning"] = 0  # each case's figure is kept for the checks on it
CASES = plot_cases.cases()
PAGE_PX = 780
_DRAWN: dict = {}


def _fig(name):
    """Each case drawn once for all the checks on it."""
    if name not in _DRAWN:
        _DRAWN[name] = CASES[name]()
    return _DRAWN[name]


@pytest.fixture(scope="module", autouse=True)
def _close_all():
    yield
    plt.close("all")
    _DRAWN.clear()


def _labelled(fig, prefix="paper"):
    """Every artist of ``fig`` whose label starts with ``prefix``."""
    out = []
    for ax in fig.axes:
        for a in [*ax.lines, *ax.collections, *ax.patches, *ax.containers]:
            if str(a.get_label()).startswith(prefix):
                out.append((ax, a))
    return out


def _tick_labels_overlap(fig) -> bool:
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    for ax in fig.axes:
        if ax.name != "rectilinear":
            continue
        labels = [t for t in ax.get_xticklabels() if t.get_text() and t.get_visible()]
        boxes = [t.get_window_extent(r) for t in labels]
        for la, a, b in zip(labels, boxes, boxes[1:]):
            angle = math.radians(la.get_rotation() % 180)
            if angle == 0:
                if a.overlaps(b):
                    return True
            else:  # rotated labels are parallel strips: apart when their spacing across them exceeds a line
                height = la.get_fontsize() * fig.dpi / 72
                if abs(b.x1 - a.x1) * math.sin(angle) < height:
                    return True
    return False


# ------------------------------------------------------------------ every chapter figure
@pytest.mark.parametrize("name", sorted(CASES))
def test_chapter_figure_is_legible_at_the_page_width(name):
    fig = _fig(name)
    r = plots.layout_report(fig, PAGE_PX)
    assert r["dpi"] >= 150, r
    assert r["min_text_px"] >= 9.0 - 1e-9, r
    assert r["panels_per_row"] <= plots.MAX_PANELS_PER_ROW, r
    assert r["min_panel_px"] >= 230, r  # the narrowest panel, as the page shows it
    assert fig.get_figwidth() <= 11.0  # a wider figure is shrunk: its own fonts would be under 9 px
    assert not _tick_labels_overlap(fig)


@pytest.mark.parametrize("name", sorted(CASES))
def test_legend_entries_have_their_curves_colour(name):
    fig = _fig(name)
    for ax in fig.axes:
        leg = ax.get_legend()
        if leg is None:
            continue
        for handle, text in zip(leg.legend_handles, leg.get_texts()):
            curves = [ln for ln in ax.lines if ln.get_label() == text.get_text()]
            if curves and hasattr(handle, "get_color"):
                assert to_rgba(handle.get_color()) == to_rgba(curves[0].get_color()), (name, text.get_text())


# ------------------------------------------------------------------ the measuring tools
def test_layout_report_counts_panels_rows_and_text():
    fig, axes = plt.subplots(1, 4, figsize=(12, 3), dpi=100)
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.tick_params(labelsize=7)
    r = plots.layout_report(fig, PAGE_PX)
    assert r["panels_per_row"] == 4 and r["rows"] == 1 and r["dpi"] == 100
    # 7 pt in a 12 in figure shown 780 px wide: 7 / 72 * 780 / 12 px
    assert r["min_text_px"] == pytest.approx(7 / 72 * PAGE_PX / 12)
    assert r["min_panel_px"] < 780 / 4
    plt.close(fig)
    fig, axes = plt.subplots(2, 2, figsize=(8, 6), layout="constrained")
    mesh = axes[0, 0].pcolormesh(np.ones((3, 3)))
    fig.colorbar(mesh, ax=axes[0, 0])  # a colourbar is not a panel
    for ax in axes.flat:
        ax.plot([0, 1], [0, 1])
    r = plots.layout_report(fig, PAGE_PX)
    assert r["panels_per_row"] == 2 and r["rows"] == 2
    plt.close(fig)
    with pytest.raises(TypeError, match="fig"):
        plots.layout_report("a figure")


def test_panel_grid_wraps_rows_and_rejects_bad_input():
    assert plots.panel_grid(4, 2) == (2, 2)
    assert plots.panel_grid(3, 2) == (2, 2)
    assert plots.panel_grid(5, 3) == (2, 3)
    assert plots.panel_grid(1, 3) == (1, 1)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="n must"):
            plots.panel_grid(bad)
    with pytest.raises(ValueError, match="max_per_row"):
        plots.panel_grid(3, 0)


def test_block_means_are_the_means_of_consecutive_steps():
    t = np.arange(1000.0)
    y = np.random.default_rng(3).random(1000)
    tm, ym, k = plots.block_means(t, y, 300)
    assert k == 4 and tm.size == ym.size == 250
    np.testing.assert_allclose(ym, y.reshape(250, 4).mean(axis=1))
    np.testing.assert_allclose(tm, t.reshape(250, 4).mean(axis=1))
    tm, ym, k = plots.block_means(t[:100], y[:100], 300)
    assert k == 1 and np.array_equal(ym, y[:100])
    tm, ym, k = plots.block_means(np.arange(1001.0), np.arange(1001.0), 500)
    assert k == 3 and ym.size == 333  # the last partial block is dropped
    with pytest.raises(ValueError, match="t and y"):
        plots.block_means(t, y[:10], 5)
    with pytest.raises(ValueError, match="max_points"):
        plots.block_means(t, y, 0)


def test_paper_line_is_labelled_and_checks_its_input():
    fig, ax = plt.subplots()
    line = plots.paper_line(ax, 6.5, "paper: k = 6", vertical=True)
    assert line.get_label() == "paper: k = 6" and np.allclose(line.get_xdata(), 6.5)
    with pytest.raises(ValueError, match="label"):
        plots.paper_line(ax, 1.0, "ours")
    with pytest.raises(ValueError, match="value"):
        plots.paper_line(ax, float("nan"))
    plt.close(fig)


def test_legible_reaches_the_z_axis_of_3d_panels():
    fig = plt.figure(figsize=(12, 4), dpi=100)
    ax = fig.add_subplot(projection="3d")
    ax.plot([0, 1], [0, 1], [0, 1])
    ax.zaxis.set_tick_params(labelsize=5)
    assert plots.rendered_text_px(fig, PAGE_PX) < 6
    plots.legible(fig)
    assert plots.rendered_text_px(fig, PAGE_PX) >= 9.0 - 1e-9
    plt.close(fig)


# ------------------------------------------------------------------ specific figures
def test_particle_forecast_wraps_to_two_a_row_and_thins_long_error_series():
    fig = _fig("particle_forecast_2")  # two runs of 3000 steps, four panels each
    r = plots.layout_report(fig, PAGE_PX)
    assert r["panels_per_row"] == 2 and r["rows"] == 4
    wd_axes = [ax for ax in fig.axes if any(ln.get_label() == "WD" for ln in ax.lines)]
    assert len(wd_axes) == 2
    wd = [ln for ln in wd_axes[0].lines if ln.get_label() == "WD"][0]
    run = plot_cases._particle_run(d_z=8)
    k = -(-3000 // 400)
    assert len(wd.get_ydata()) <= 400
    np.testing.assert_allclose(wd.get_ydata(), run["wd"][: 3000 // k * k].reshape(-1, k).mean(axis=1))
    assert f"means over {k} steps" in wd_axes[0].get_xlabel()
    # the latent panel shows a window of the start, said in its title
    lat = fig.axes[0]
    assert lat.get_xlim()[1] < 500 and "first" in lat.get_title(loc="left")


def test_one_dot_snapshot_is_zoomed_and_says_so():
    fig = _fig("particle_snapshots_3d")  # t = 0: every particle at one point
    ax0, ax1 = fig.axes[0], fig.axes[1]
    assert "zoomed" in ax0.get_title() and "at one point" in ax0.get_title()
    for lim in (ax0.get_xlim(), ax0.get_ylim(), ax0.get_zlim()):
        assert lim[1] - lim[0] < 0.1  # its own limits, far inside the unit box
    assert ax1.get_xlim() == pytest.approx((-0.5, 0.5)) and "zoomed" not in ax1.get_title()
    for ax in (ax0, ax1):
        assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_zlabel()) == ("x", "y", "z")
        assert all(t.get_text() for t in ax.get_xticklabels())  # the limits are labelled
    fig = _fig("particle_snapshots_compare")
    titles = [ax.get_title() for ax in fig.axes]
    assert sum("zoomed" in t for t in titles) == 1  # only the t = 0 of the point release


def _patched_registry(monkeypatch, claim_id, value):
    """The registry with ``claim_id``'s paper number replaced: a figure that takes it from
    the registry follows; one with the number typed in does not."""
    real = reproduction.claim

    def claim(cid):
        c = real(cid)
        return dataclasses.replace(c, paper=value) if cid == claim_id else c

    monkeypatch.setattr(reproduction, "claim", claim)


@pytest.mark.parametrize("case, claim_id, axis", [
    ("moment_error_summary", "AD1.speedup_latent", "y"),
    ("metastable_states", "AD3.n_metastable_states", "x"),
    ("fhn_latent_dim_study", "FHN.latent_dim", "x"),
    ("ks_latent_dim_study", "KS.latent_dim", "x"),
    ("ks_pca_energy", "KS.pca_energy_8_modes", "y"),
    ("ks_multiscale_summary", "KS.nad_lyapunov_times", "x"),
])
def test_the_papers_number_is_drawn_from_the_scorecard_registry(monkeypatch, case, claim_id, axis):
    def drawn(fig):
        vals = set()
        for _, a in _labelled(fig):
            data = a.get_xdata() if axis == "x" else a.get_ydata()
            vals |= {round(float(v), 9) for v in np.atleast_1d(data)}
        return vals

    value = reproduction.claim(claim_id).paper
    shift = 0.5 if case == "metastable_states" else 0.0  # the eigengap line sits between k and k + 1
    fig = CASES[case]()
    assert round(value + shift, 9) in drawn(fig)
    plt.close(fig)
    _patched_registry(monkeypatch, claim_id, value * 2)
    fig = CASES[case]()
    assert round(2 * value + shift, 9) in drawn(fig) and round(value + shift, 9) not in drawn(fig)
    plt.close(fig)


def test_fhn_tradeoff_draws_the_papers_quoted_points_from_the_registry():
    rho = [math.inf, 1.0, 5.0]
    fig = plots.fhn_multiscale_tradeoff(rho, [0.02, 0.01, 0.015], [0.02, 0.01, 0.015], [100.0, 2.0, 5.0])
    marks = {ax.get_title(loc="left")[:3]: a for ax, a in _labelled(fig)}
    want = reproduction.claim
    # positions are rho in increasing order: 1 -> 0, 5 -> 1, latent -> 2
    assert dict(zip(marks["(a)"].get_xdata(), marks["(a)"].get_ydata())) == {
        2: want("FHN.mnad_latent_tf8000").paper, 0: want("FHN.mnad_rho1_tf8000").paper}
    assert dict(zip(marks["(c)"].get_xdata(), marks["(c)"].get_ydata())) == {
        2: want("FHN.speedup_latent").paper, 0: want("FHN.speedup_rho1").paper}
    assert "(b)" not in marks  # the paper quotes the activator's error only
    assert plots.fhn_paper_tradeoff() == {
        math.inf: (want("FHN.mnad_latent_tf8000").paper, want("FHN.speedup_latent").paper),
        1.0: (want("FHN.mnad_rho1_tf8000").paper, want("FHN.speedup_rho1").paper)}
    plt.close(fig)
    fig = plots.fhn_multiscale_tradeoff(rho, [0.02, 0.01, 0.015], [0.02, 0.01, 0.015], [100.0, 2.0, 5.0],
                                        paper=None)
    assert not _labelled(fig)
    plt.close(fig)
    with pytest.raises(ValueError, match="paper"):
        plots.fhn_multiscale_tradeoff(rho, [1, 1, 1], [1, 1, 1], [1, 1, 1], paper="typed")


def test_fhn_mnad_bars_show_the_papers_bars_hatched():
    fig = _fig("fhn_mnad_bars")
    paper = reproduction.cspde_paper_values()
    for k, ax in enumerate(fig.axes[:2]):
        hatched = [p for p in ax.patches if p.get_hatch()]
        assert [p.get_height() for p in hatched] == [v[k] for v in paper.values()]
    assert plots.layout_report(fig, PAGE_PX)["panels_per_row"] == 1


def test_tradeoff_curves_mark_each_systems_paper_speedup():
    fig = _fig("tradeoff_curves")
    ax_s = fig.axes[1]
    marks = {a.get_label(): float(a.get_ydata()[0]) for a in ax_s.lines if a.get_label().startswith("paper:")}
    for name, prefix in (("KS", "KS"), ("FHN", "FHN"), ("AD1D", "AD1"), ("AD3D", "AD3")):
        S = reproduction.claim(f"{prefix}.speedup_latent").paper
        assert marks[f"paper: {name} latent, S = {S:g}"] == S
    # the legend's paper entry is black (each marker has its system's colour)
    texts = [t.get_text() for t in ax_s.get_legend().get_texts()]
    assert "paper, latent (system's colour)" in texts


def test_moment_error_summary_checks_system():
    with pytest.raises(TypeError, match="system"):
        plots.moment_error_summary(plot_cases._summary(["latent"]), {"latent": 3.0}, {"latent": math.inf}, system=1)
    with pytest.raises(ValueError, match="unknown claim"):
        plots.moment_error_summary(plot_cases._summary(["latent"]), {"latent": 3.0}, {"latent": math.inf},
                                   system="XX")


def test_moments_over_time_adds_a_window_of_a_long_record():
    fig = _fig("moments_over_time")  # 5000 samples
    whole, window = fig.axes[0], fig.axes[2]
    assert len(whole.lines[0].get_xdata()) <= 600 and "means over 9 steps" in whole.get_xlabel()
    np.testing.assert_array_equal(window.lines[0].get_xdata(), np.arange(200.0))
    assert "first 199 time units" in window.get_xlabel()
    with pytest.raises(ValueError, match="one row per time"):
        plots.moments_over_time(np.arange(10.0), np.zeros((9, 3)), np.zeros((10, 3)))


def test_metastable_states_with_a_single_state():
    # no eigengap: the chapter records one state; the figure still draws, the paper's k beside ours
    g = np.random.default_rng(0)
    zp = g.standard_normal((300, 3))
    fig = plots.metastable_states(zp, np.zeros(300, dtype=int), zp[:1], g.uniform(-0.5, 0.5, (1, 50, 3)),
                                  np.linspace(1, 0.9, 10))
    r = plots.layout_report(fig, PAGE_PX)
    assert r["min_text_px"] >= 9.0 - 1e-9 and r["panels_per_row"] <= 2
    labels = [a.get_label() for _, a in _labelled(fig)]
    assert labels == [f"paper: k = {reproduction.claim('AD3.n_metastable_states').paper:g}"]
    with pytest.raises(ValueError, match="configs"):
        plots.metastable_states(zp, np.zeros(300, dtype=int), zp[:2], g.uniform(-0.5, 0.5, (1, 50, 3)))
    plt.close(fig)
