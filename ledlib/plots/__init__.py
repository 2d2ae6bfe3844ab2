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
