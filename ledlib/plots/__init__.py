"""Figure functions for the book: a notebook cell calls one of these, never pages of pyplot.

Every function returns the ``matplotlib.figure.Figure`` it drew, so a chapter can show
it, save it, or glue it; none calls ``plt.show()``. One module per chapter family, all
re-exported here (``from ledlib import plots; plots.ks_contour(...)``).
"""

from .systems import *  # noqa: F401,F403
from .theory import *  # noqa: F401,F403
from .ks import *  # noqa: F401,F403
from .fhn import *  # noqa: F401,F403
from .particles import *  # noqa: F401,F403
from .tradeoffs import *  # noqa: F401,F403
from .scorecard import *  # noqa: F401,F403
from .adaptive import *  # noqa: F401,F403
from .own_simulator import *  # noqa: F401,F403
from .grid import *  # noqa: F401,F403
from .style import (COLUMN_PX, MAX_PANELS_PER_ROW, MIN_DPI, MIN_TEXT_PX, PAGE_WIDTH_IN, PAPER_STYLE,  # noqa: F401
                    block_means, layout_report, legible, panel_grid, paper_line, paper_value, rendered_text_px)


def _shown_legible(fn):
    """``fn``'s figure, made legible at the page's width (:func:`legible`)."""
    import functools

    from matplotlib.figure import Figure

    @functools.wraps(fn)
    def draw(*args, **kwargs):
        out = fn(*args, **kwargs)
        return legible(out) if isinstance(out, Figure) else out

    return draw


def _wrap_all():
    from . import adaptive, fhn, grid, ks, own_simulator, particles, scorecard, systems, theory, tradeoffs

    for mod in (systems, theory, ks, fhn, particles, tradeoffs, scorecard, adaptive, own_simulator, grid):
        for name in mod.__all__:
            fn = getattr(mod, name)
            if callable(fn) and not isinstance(fn, type) and not hasattr(fn, "__wrapped__"):
                globals()[name] = _shown_legible(fn)


_wrap_all()
