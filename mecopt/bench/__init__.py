"""Benchmarks: sweeps of solvers over instance families, stored, reported and plotted.

- :func:`load_spec` reads a TOML sweep spec (:mod:`mecopt.bench.spec`);
- :func:`run_sweep` runs it with an executor (:class:`LocalExecutor` by default,
  :class:`DaskExecutor` with the extra ``dask``), each solve in a child process with a
  hard wall-clock limit;
- :class:`ResultStore` keeps one SQLite row per (instance, solver, seed), resumable;
- :func:`aggregate`, :func:`plot_all` and :func:`export_rows` report, plot and export.
"""

from mecopt.bench.executors import DaskExecutor, LocalExecutor, make_executor
from mecopt.bench.export import export_rows
from mecopt.bench.plots import plot_all
from mecopt.bench.report import aggregate, to_markdown, to_text
from mecopt.bench.run import SweepOutcome, run_sweep
from mecopt.bench.spec import SweepSpec, Task, load_spec, parse_spec
from mecopt.bench.store import ResultStore

__all__ = [
    "DaskExecutor",
    "LocalExecutor",
    "ResultStore",
    "SweepOutcome",
    "SweepSpec",
    "Task",
    "aggregate",
    "export_rows",
    "load_spec",
    "make_executor",
    "parse_spec",
    "plot_all",
    "run_sweep",
    "to_markdown",
    "to_text",
]
