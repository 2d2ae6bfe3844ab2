"""ledlib: Learning the Effective Dynamics (LED) of multiscale systems.

The library under the LED book: micro solvers (`ledlib.systems`), datasets
(`ledlib.data`), networks (`ledlib.nn`), training, forecasting, metrics and plots.
"""

__version__ = "0.1.0"
