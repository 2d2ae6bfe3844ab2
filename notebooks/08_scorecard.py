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
# Every claim of the paper that the book checks, with the paper's value, ours, and where
# ours came from: the profile (`quick` numbers are rough by design), the device and the
# commit. Nothing here is typed by hand: each chapter writes what it measured into
# `book/results/scorecard.json` when it executes, and this page renders that file.
#
# The verdict follows a rule fixed per claim in `ledlib.reproduction`: **matches** when
# ours is within the stated tolerance of the paper's value (or beyond the paper's
# bound), **differs** otherwise, **reported** where the paper's statement is
# qualitative (the note says what we see), and **not measured** where no chapter has
# produced the number yet.

# %% tags=["parameters"]
profile = "quick"
device = "auto"
seed = 0
results_dir = "book/results"
cache_dir = ""

# %% tags=["remove-cell"]
from collections import Counter

from IPython.display import Markdown

from ledlib import reproduction, scorecard

card = scorecard.load(results_dir)
rows = reproduction.scorecard_rows(card)

# %%
counts = Counter(r["verdict"] for r in rows)
print(f"{len(rows)} claims: " + ", ".join(f"{n} {v}" for v, n in counts.most_common()))

# %% tags=["remove-input"]
Markdown(reproduction.render_scorecard(card))
