"""ledlib: Learning the Effective Dynamics (LED) of multiscale systems.

The library under the LED book: micro solvers behind one interface (`ledlib.systems`;
yours becomes an LED system by subclassing `systems.System`, checked by
`systems.check_system`), datasets (`ledlib.data`: `generate` for any System,
`from_arrays` for your own trajectories), configurations (`ledlib.configs.template`),
networks (`ledlib.nn`), training, forecasting, metrics and plots. The paper's four
systems, with their datasets, configurations and chapter protocols, are in
`ledlib.paper`.
"""

__version__ = "0.1.0"
