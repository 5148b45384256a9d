"""The sweep specification: a TOML file expanded into solve tasks.

A spec has a ``[sweep]`` table of defaults and one or more ``[[grid]]`` tables; each grid is
the product scenarios x sizes x instance options x seeds x solvers::

    [sweep]
    name = "replay"
    db = "replay.sqlite"        # optional, relative to the spec file; by default the store
                                # is NAME.sqlite in the current folder
    threads = 1                 # solver threads per solve
    hard_limit = 600            # wall-clock seconds after which a solve is killed
    grace = 30                  # hard limit = time_limit + grace when a time limit is set

    [[grid]]
    scenario = "kim2026"
    n_users = { start = 50, stop = 120, step = 10 }   # or a list
    seeds = { start = 0, count = 10 }                 # or a list
    solvers = ["goa", "local-all", { name = "highs", time_limit = 60, max_n = 1000 }]
    [grid.options]              # instance overrides; a list is a swept dimension
    tau = [0.6, 0.8, 1.0]
    interference = ["none", "other-cells"]

A solver entry is a name or a table with ``name`` and optionally ``label`` (the name stored,
default ``name``), ``options`` (solver options such as ``engine``), ``time_limit``,
``min_n``/``max_n`` (sizes it runs on) and ``hard_limit``. Tasks are ordered seed first, so a
sweep stopped early holds complete seeds.

A grid with ``kind = "longterm"`` scores long-term policies instead (:mod:`mecopt.bench.kinds`):
``scenario`` names a long-term scenario, ``n_users`` the numbers of devices, ``horizon`` the
number of slots, ``solvers`` the policies (``options`` are policy options) and
``[grid.options]`` the scenario parameters::

    [[grid]]
    kind = "longterm"
    scenario = "default"
    n_users = [5, 10, 20, 40]
    horizon = 500
    seeds = { start = 0, count = 3 }
    solvers = ["local", "greedy", { name = "lyapunov", options = { V = 20.0 } }]
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mecopt.bench.kinds import ONESHOT, task_kind
from mecopt.scenarios import SCENARIOS, scenario, scenario_parameters
from mecopt.solve import get_solver

_SWEEP_KEYS = {"name", "db", "threads", "hard_limit", "grace", "description"}
_GRID_KEYS = {"scenario", "n_users", "seeds", "solvers", "options", "name", "kind", "horizon"}
_SOLVER_KEYS = {"name", "label", "options", "time_limit", "min_n", "max_n", "hard_limit"}
_INSTANCE_OPTIONS = ("interference", "queue", "arrival_rate", "tau", "min_accuracy",
                     "max_users")
#: Largest N a sweep may ask for (larger instances do not fit in memory).
MAX_USERS = 1_000_000
#: Seeds are stored as 64-bit integers; NumPy seeds are non-negative.
MAX_SEED = 2**32 - 1


@dataclasses.dataclass(frozen=True)
class SolverEntry:
    """One solver of a grid: the registered name and how to run it."""

    name: str
    label: str
    options: Mapping[str, Any]
    time_limit: float | None
    min_n: int
    max_n: int | None
    hard_limit: float | None


@dataclasses.dataclass(frozen=True)
class Task:
    """One solve: an instance (scenario, size, seed, overrides) and a solver.

    ``seed`` seeds both the instance and the solver, so every solver of a seed sees the
    same instance.
    """

    sweep: str
    scenario: str
    n_users: int
    seed: int
    overrides: Mapping[str, Any]
    solver: str
    label: str
    solver_options: Mapping[str, Any]
    time_limit: float | None
    threads: int
    hard_limit: float
    kind: str = "oneshot"
    horizon: int | None = None

    @property
    def instance_key(self) -> str:
        """Canonical text naming the instance (without the solver)."""
        if self.kind == "oneshot":
            return instance_key(self.scenario, self.n_users, self.seed, self.overrides)
        extra = {"kind": self.kind, "horizon": self.horizon}
        return instance_key(self.scenario, self.n_users, self.seed, {**self.overrides,
                                                                      "__task__": extra})

    @property
    def key(self) -> tuple[str, str, int]:
        """``(instance_key, label, seed)``: the store's unique key."""
        return (self.instance_key, self.label, self.seed)


def instance_key(scenario: str, n_users: int, seed: int, overrides: Mapping[str, Any]) -> str:
    """Canonical JSON text for an instance."""
    return json.dumps({"scenario": scenario, "n_users": int(n_users), "seed": int(seed),
                       "overrides": dict(sorted(overrides.items()))}, sort_keys=True)


@dataclasses.dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep: its name, defaults and expanded tasks."""

    name: str
    db: Path | None
    tasks: tuple[Task, ...]
    source: Path | None = None

    def __len__(self) -> int:
        return len(self.tasks)


def _whole(name: str, value: Any, *, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} = {value!r}: must be a whole number")
    if value < low or (high is not None and value > high):
        top = "" if high is None else f" and <= {high}"
        raise ValueError(f"{name} = {value!r}: must be >= {low}{top}")
    return value


def _range(name: str, value: Any, high: int) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        out = [value]
    elif isinstance(value, list):
        out = list(value)
    elif isinstance(value, Mapping):
        extra = set(value) - {"start", "stop", "step", "count"}
        if extra:
            raise ValueError(f"{name}: unknown key(s) {sorted(extra)}; use start, stop, step "
                             "or start, count")
        start = _whole(f"{name}.start", value.get("start", 0), high=high)
        step = _whole(f"{name}.step", value.get("step", 1), low=1)
        if "count" in value:
            count = _whole(f"{name}.count", value["count"], low=1, high=100_000)
            out = [start + step * k for k in range(count)]
        elif "stop" in value:
            stop = _whole(f"{name}.stop", value["stop"], high=high)
            out = list(range(start, stop + 1, step))
        else:
            raise ValueError(f"{name}: a range needs 'stop' or 'count'")
    else:
        raise ValueError(f"{name} = {value!r}: must be a whole number, a list or a range table")
    if not out:
        raise ValueError(f"{name} = {value!r}: gives no values")
    for k, v in enumerate(out):
        _whole(f"{name}[{k}]", v, high=high)
    return out


def _dimension(key: str, value: Any) -> list[Any]:
    """The values an option takes: a list is swept (``max_users``: a list of lists)."""
    if not isinstance(value, list):
        return [value]
    if key == "max_users" and not (value and isinstance(value[0], list)):
        return [value]
    if not value:
        raise ValueError(f"option {key!r}: an empty list sweeps nothing")
    return value


def _positive(name: str, value: Any, *, zero: bool = False) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value) or value < 0 or (value == 0 and not zero):
        raise ValueError(f"{name} = {value!r}: must be a finite number {'>=' if zero else '>'} 0")
    return float(value)


def _table(name: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} = {value!r}: must be a table")
    return dict(value)


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} = {value!r}: must be a non-empty string")
    return value


def _solver_entry(where: str, raw: Any, plugin: Any = None) -> SolverEntry:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping) or "name" not in raw:
        raise ValueError(f"{where} = {raw!r}: a solver is a name or a table with 'name'")
    extra = set(raw) - _SOLVER_KEYS
    if extra:
        raise ValueError(f"{where}: unknown key(s) {sorted(extra)}; valid: "
                         f"{', '.join(sorted(_SOLVER_KEYS))}")
    name = _text(f"{where}.name", raw["name"])
    options = _table(f"{where}.options", raw.get("options", {}))
    _jsonable(f"{where}.options", options)
    if plugin is not None:
        plugin.check_solver(where, name, options)
    else:
        impl, _engine = get_solver(name)  # validates the name, listing the valid ones
        unknown = sorted(set(options) - set(impl.options))
        if unknown:
            raise ValueError(f"{where}: unknown option(s) for solver {name!r}: "
                             f"{', '.join(unknown)}; valid: {', '.join(impl.options) or 'none'}")
    if "label" in raw:
        _text(f"{where}.label", raw["label"])
    min_n = _whole(f"{where}.min_n", raw.get("min_n", 0), high=MAX_USERS)
    max_n = raw.get("max_n")
    if max_n is not None:
        max_n = _whole(f"{where}.max_n", max_n, high=MAX_USERS)
    return SolverEntry(
        name=raw["name"], label=str(raw.get("label", raw["name"])), options=options,
        time_limit=_positive(f"{where}.time_limit", raw.get("time_limit")),
        min_n=min_n, max_n=max_n,
        hard_limit=_positive(f"{where}.hard_limit", raw.get("hard_limit")),
    )


def _grid_tasks(sweep: str, where: str, grid: Mapping[str, Any], defaults: Mapping[str, Any],
                ) -> list[Task]:
    extra = set(grid) - _GRID_KEYS
    if extra:
        raise ValueError(f"{where}: unknown key(s) {sorted(extra)}; valid: "
                         f"{', '.join(sorted(_GRID_KEYS))}")
    for key in ("scenario", "n_users", "seeds", "solvers"):
        if key not in grid:
            raise ValueError(f"{where}: missing key {key!r}")
    kind, plugin, horizon = _grid_kind(where, grid)
    scenarios = _grid_scenarios(where, grid, plugin)
    sizes = _range(f"{where}.n_users", grid["n_users"], MAX_USERS)
    if any(n < 1 for n in sizes):
        raise ValueError(f"{where}.n_users: sizes must be >= 1")
    seeds = _range(f"{where}.seeds", grid["seeds"], MAX_SEED)
    solvers = _grid_solvers(where, grid, plugin)
    names, values = _grid_options(where, grid, scenarios, plugin)
    if plugin is None:
        _check_instances(where, scenarios, names, values)
    elif hasattr(plugin, "check_grid"):  # values, sizes and solver options of a plug-in kind
        for scen, combo in itertools.product(scenarios, itertools.product(*values)):
            plugin.check_grid(where, scenario=scen, overrides=dict(zip(names, combo, strict=True)),
                              sizes=sizes, horizon=horizon, solvers=solvers)
    threads = _whole("[sweep].threads", defaults.get("threads", 1), low=1, high=1024)
    hard_default = _positive("[sweep].hard_limit", defaults.get("hard_limit", 600.0))
    grace = _positive("[sweep].grace", defaults.get("grace", 30.0), zero=True)
    tasks = []
    for seed in seeds:
        for scen, n, combo in itertools.product(scenarios, sizes, itertools.product(*values)):
            overrides = dict(zip(names, combo, strict=True))
            for s in solvers:
                if n < s.min_n or (s.max_n is not None and n > s.max_n):
                    continue
                hard = s.hard_limit or (s.time_limit + grace if s.time_limit else hard_default)
                tasks.append(Task(sweep=sweep, scenario=scen, n_users=n, seed=seed,
                                  overrides=overrides, solver=s.name, label=s.label,
                                  solver_options=dict(s.options), time_limit=s.time_limit,
                                  threads=threads, hard_limit=hard, kind=kind,
                                  horizon=horizon))
    return tasks


def _grid_kind(where: str, grid: Mapping[str, Any]) -> tuple[str, Any, int | None]:
    """The grid's task kind, its plug-in (``None`` for one-shot solves) and horizon."""
    kind = _text(f"{where}.kind", grid.get("kind", ONESHOT))
    if kind == ONESHOT:
        if "horizon" in grid:
            raise ValueError(f"{where}: 'horizon' belongs to long-term grids "
                             "(kind = 'longterm')")
        return kind, None, None
    plugin = task_kind(kind)
    if "horizon" not in grid:
        raise ValueError(f"{where}: a {kind!r} grid needs 'horizon' (slots)")
    horizon = grid["horizon"]
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ValueError(f"{where}.horizon = {horizon!r}: must be a whole number >= 1")
    return kind, plugin, horizon


def _grid_scenarios(where: str, grid: Mapping[str, Any], plugin: Any) -> list[str]:
    """The grid's scenario names, each checked by its kind."""
    scenarios = grid["scenario"]
    scenarios = [scenarios] if isinstance(scenarios, str) else scenarios
    if not isinstance(scenarios, list) or not scenarios:
        raise ValueError(f"{where}.scenario = {grid['scenario']!r}: must be a scenario name "
                         "or a list of names")
    for k, s in enumerate(scenarios):
        if plugin is None:
            SCENARIOS.get(_text(f"{where}.scenario[{k}]", s))
        else:
            plugin.check_scenario(_text(f"{where}.scenario[{k}]", s))
    return scenarios


def _grid_solvers(where: str, grid: Mapping[str, Any], plugin: Any) -> list[SolverEntry]:
    """The grid's solver (or policy) entries, with unique labels."""
    if not isinstance(grid["solvers"], list) or not grid["solvers"]:
        raise ValueError(f"{where}.solvers = {grid['solvers']!r}: must be a non-empty list of "
                         'solver names or tables, e.g. ["goa", "highs"]')
    solvers = [_solver_entry(f"{where}.solvers[{k}]", s, plugin)
               for k, s in enumerate(grid["solvers"])]
    labels = [s.label for s in solvers]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{where}.solvers: labels must be unique, got {labels}")
    return solvers


def _grid_options(where: str, grid: Mapping[str, Any], scenarios: list[str], plugin: Any,
                  ) -> tuple[list[str], list[list[Any]]]:
    """The swept option names (sorted) and each one's values, checked against every
    scenario of the grid."""
    options = _table(f"{where}.options", grid.get("options", {}))
    _jsonable(f"{where}.options", options)
    for s in scenarios:
        valid = (set(scenario_parameters(s)) | set(_INSTANCE_OPTIONS) if plugin is None
                 else plugin.scenario_options(s))
        unknown = sorted(set(options) - valid)
        if unknown:
            raise ValueError(f"{where}.options: unknown option(s) {', '.join(unknown)} for "
                             f"scenario {s!r}; valid: {', '.join(sorted(valid))}")
    names = sorted(options)
    return names, [_dimension(k, options[k]) for k in names]


def _jsonable(name: str, value: Any) -> None:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        if isinstance(value, Mapping):  # name the offending key
            for key, item in value.items():
                _jsonable(f"{name}.{key}", item)
        raise ValueError(f"{name} = {value!r}: values must be finite numbers, strings, "
                         f"booleans, lists or tables ({exc})") from None


def _check_instances(where: str, scenarios: list[str], names: list[str],
                     values: list[list[Any]]) -> None:
    """Build one small instance per scenario and option combination, so a bad value (say
    ``tau = 5`` or an unknown queue) stops the spec before any task runs."""
    for scen, combo in itertools.product(scenarios, itertools.product(*values)):
        overrides = dict(zip(names, combo, strict=True))
        try:
            scenario(scen, 2, 0, **overrides)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{where}.options {overrides}: {exc}") from None


def parse_spec(data: Mapping[str, Any], source: Path | None = None) -> SweepSpec:
    """Validate a spec given as a dict (the parsed TOML) and expand its tasks.

    Raises
    ------
    ValueError
        For unknown keys, solver, scenario or option names (listing the valid ones), bad
        ranges, or a task listed twice.
    """
    extra = set(data) - {"sweep", "grid"}
    if extra:
        raise ValueError(f"sweep spec: unknown table(s) {sorted(extra)}; valid: sweep, grid")
    sweep = _table("[sweep]", data.get("sweep", {}))
    bad = set(sweep) - _SWEEP_KEYS
    if bad:
        raise ValueError(f"[sweep]: unknown key(s) {sorted(bad)}; valid: "
                         f"{', '.join(sorted(_SWEEP_KEYS))}")
    name = _text("[sweep].name", sweep.get("name", source.stem if source else "sweep"))
    if "description" in sweep:
        _text("[sweep].description", sweep["description"])
    grids = data.get("grid")
    if not grids:
        raise ValueError("sweep spec: needs at least one [[grid]] table")
    if not isinstance(grids, list) or not all(isinstance(g, Mapping) for g in grids):
        raise ValueError("sweep spec: 'grid' must be an array of tables ([[grid]])")
    tasks: list[Task] = []
    for k, grid in enumerate(grids):
        tasks.extend(_grid_tasks(name, f"grid[{k}]", grid, sweep))
    keys = [t.key for t in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("sweep spec: some (instance, solver, seed) appears twice")
    db = sweep.get("db")
    if db is not None:
        db = Path(_text("[sweep].db", db))
        if source is not None and not db.is_absolute():
            db = source.parent / db
    return SweepSpec(name=name, db=db, tasks=tuple(tasks), source=source)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and expand a TOML sweep spec.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is not valid TOML or not a valid spec.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep spec not found: {path}")
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML ({exc})") from None
    return parse_spec(data, source=path)
