"""Sweeps: a grid of training configs from one YAML file, run as named, resumable runs.

- :mod:`~ganwatch.sweep.spec` reads and validates the file and expands the grid to cells;
- :mod:`~ganwatch.sweep.plan` decides from the store what each cell still needs;
- :mod:`~ganwatch.sweep.runner` trains the cells, in this process or N subprocesses;
- :mod:`~ganwatch.sweep.summary` tabulates the cells' latest runs, and their seed means;
- :mod:`~ganwatch.sweep.command` is ``ganwatch sweep``.
"""

from ganwatch.sweep.command import sweep_command
from ganwatch.sweep.plan import plan_sweep
from ganwatch.sweep.runner import SweepBusyError, SweepInterrupted, run_sweep
from ganwatch.sweep.spec import Cell, Sweep, cell_name, load_sweep
from ganwatch.sweep.summary import render_summary

__all__ = [
    "Cell",
    "Sweep",
    "SweepBusyError",
    "SweepInterrupted",
    "cell_name",
    "load_sweep",
    "plan_sweep",
    "render_summary",
    "run_sweep",
    "sweep_command",
]
