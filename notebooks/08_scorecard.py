# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Reproduction scorecard
#
# Every claim of the paper {cite:p}`vlachas2020led` that the book checks, with the paper's
# value, ours, and a verdict. Nothing here is typed by hand: each chapter writes what it
# measured into `book/results/scorecard.json` when it executes, and this page renders that
# file; the verdicts are computed now, from the rules below, so re-executing this page
# alone applies them to every number. Each row links to the figure (or table) its number
# comes from; "note" opens what was run (ensemble sizes, horizons), the profile, the device
# and the commit that measured it.

# %% tags=["parameters"]
profile = "quick"
device = "auto"
seed = 0
results_dir = "book/results"  # the committed scorecard this page renders (the runner passes its own)
cache_dir = ""

# %% tags=["remove-cell"]
from pathlib import Path

from IPython.display import Markdown, display

from ledlib import plots, reproduction, scorecard

card = scorecard.load(results_dir)
rows = reproduction.scorecard_rows(card)

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
display(Markdown(reproduction.render_summary(card)))

# %% tags=["remove-input"]
# the introduction's results table and figure, written beside the scorecard (the chapter
# runner lands them with this page)
Path(results_dir).mkdir(parents=True, exist_ok=True)
(Path(results_dir) / "headline.md").write_text(reproduction.render_headline(card, "scorecard.html") + "\n")
fig = plots.scorecard_ratios(rows)
fig.savefig(Path(results_dir) / "headline.png", dpi=150)

# %% [markdown]
# Each bar is ours divided by the paper's number, on a log scale (1 = the paper's), for
# every claim with a paper number; the shaded band is the tolerance of errors (a factor
# of two either way).
#
# ## The verdict rules
#
# One set of rules, by the kind of the claim (`ledlib.reproduction.RULES`):

# %% tags=["remove-input"]
display(Markdown(reproduction.rules_markdown()))

# %% [markdown]
# ## Advection-diffusion in 1-D
#
# Measured in [the 1-D chapter](ad1d.ipynb).

# %% tags=["remove-input"]
display(Markdown('<a id="system-ad1"></a>\n\n' + reproduction.render_scorecard(card, "AD1")))

# %% [markdown]
# ## Advection-diffusion in 3-D
#
# Measured in [the 3-D chapter](ad3d.ipynb).

# %% tags=["remove-input"]
display(Markdown('<a id="system-ad3"></a>\n\n' + reproduction.render_scorecard(card, "AD3")))

# %% [markdown]
# ## FitzHugh-Nagumo
#
# Measured in [the FitzHugh-Nagumo chapter](fhn.ipynb); the coarse-scale PDE rows are our
# implementation of {cite:t}`lee2020cspde`.

# %% tags=["remove-input"]
display(Markdown('<a id="system-fhn"></a>\n\n' + reproduction.render_scorecard(card, "FHN")))

# %% [markdown]
# ## Kuramoto-Sivashinsky
#
# Measured in [the Kuramoto-Sivashinsky chapter](ks.ipynb) (the Lyapunov exponent in
# [the benchmark systems](systems.ipynb)).

# %% tags=["remove-input"]
display(Markdown('<a id="system-ks"></a>\n\n' + reproduction.render_scorecard(card, "KS")))
