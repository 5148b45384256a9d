"""Fuzz mecopt's inputs: mutated instance files, profile CSVs and bench specs, and the newer
surfaces (long-term CLI and API, training, variants, long-term/train specs: ``surfaces.py``).

Usage::

    python benchmarks/fuzz/run.py [--instances 10000] [--csvs 1000] [--specs 1000]
        [--surfaces 1000] [--subprocess 100] [--surface-subprocess 10] [--exact-every 50]
        [--parts instances,csvs,specs,surfaces] [--seed 0] [--out benchmarks/fuzz]

``--parts`` runs some parts only; the others keep their committed results. The newer
surfaces are described in ``surfaces.py`` (outcomes and oracles); below, the instance part.

Every mutated input goes through the API and the command line (in process, plus a sample
through a real ``python -m mecopt`` subprocess). Each outcome is one of:

- ``rejected``: a validation error (a ``MecoptError``/``ValueError`` with a message; exit
  code 2 on the command line) - the right answer for a bad input;
- ``accepted``: loaded, and an independent oracle (this script) confirms that every value
  read equals the value written, with its JSON type, and that the heuristics and the
  evaluator run on it;
- ``internal_error``: any other exception (a crash; exit code 3 on the command line);
- ``traceback``: a Python traceback on standard error (subprocess sample);
- ``silent_coercion``: accepted, but the oracle finds a value that differs from the file
  (a string read as a number, a boolean as 1.0, a duplicated key, a wrapped integer...).

The targets are 0 internal errors, 0 tracebacks and 0 silent coercions. A sample of the
accepted instances is also solved by the exact solver ``highs`` (2 s limit); solver-side
findings are counted separately (``exact_*``). Writes ``results.json`` and ``results.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

import mecopt
from mecopt.cli import main as cli_main
from mecopt.errors import MecoptError

# ----------------------------------------------------------------------------- raw JSON text


class Raw:
    """A JSON token written verbatim (NaN, 1e400, a 400-digit integer...)."""

    def __init__(self, text: str) -> None:
        self.text = text


def dump(obj: Any) -> str:
    """JSON text of ``obj``; :class:`Raw` tokens verbatim, dict keys may repeat (list pairs)."""
    if isinstance(obj, Raw):
        return obj.text
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dump(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list):
        return "[" + ", ".join(dump(v) for v in obj) + "]"
    if isinstance(obj, float):
        return repr(obj)
    return json.dumps(obj)


#: Replacement tokens for a number or an array (text, label).
TOKENS = [
    ('"0.6"', "numeric string"), ("true", "boolean"), ("false", "boolean"), ("null", "null"),
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "Infinity"), ("1e400", "overflow"),
    ("9" * 400, "400-digit integer"), ("-1", "negative"), ("0", "zero"), ("1e308", "huge"),
    ("-1e308", "huge"), ("1e-320", "subnormal"), ("1e20", "large"), ("[]", "empty array"),
    ("{}", "object"), ("[1, 2]", "short array"), ('"abc"', "string"), ('{"a": 1}', "object"),
    ("[[1]]", "nested array"), ("0.5", "number"), ("2", "integer"), ("1.0", "number"),
    ("3.5", "number"), ("-0.0", "zero"), ("1e300", "huge"), ('""', "string"),
]


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path (keys and indices) into ``obj``."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, prefix + (i,))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for p in path:
        obj = obj[p]
    return obj


def _set(obj: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(obj, path[:-1])[path[-1]] = value
    return obj


def mutate_instance(doc: dict, rng: np.random.Generator) -> tuple[str | bytes, str]:
    """One mutated instance file (text or bytes) and the label of the mutation."""
    doc = json.loads(json.dumps(doc))
    ops = []
    for _ in range(int(rng.integers(1, 3))):
        paths = _paths(doc)
        path = paths[int(rng.integers(len(paths)))]
        target = _get(doc, path)
        op = rng.choice(["token", "token", "token", "delete", "unknown_key", "shape",
                         "number", "swap_type", "deep", "text"])
        if op == "token" or (op == "delete" and not path):
            text, label = TOKENS[int(rng.integers(len(TOKENS)))]
            doc = _set(doc, path, Raw(text))
            ops.append(f"token:{label}")
        elif op == "delete":
            parent = _get(doc, path[:-1])
            del parent[path[-1]]
            ops.append("delete")
        elif op == "unknown_key":
            where = rng.choice(["top", "instance", "meta"])
            inner = doc.get("instance") if isinstance(doc, dict) else None
            holder = doc if where == "top" else (
                inner if where == "instance" else
                inner.get("meta") if isinstance(inner, dict) else None)
            if isinstance(holder, dict):
                holder["colour"] = 1
            ops.append(f"unknown_key:{where}")
        elif op == "shape" and isinstance(target, list):
            kind = rng.choice(["truncate", "extend", "ragged", "nest", "empty", "flatten"])
            if kind == "truncate":
                target[:] = target[:-1]
            elif kind == "extend":
                target.append(target[-1] if target else 1.0)
            elif kind == "ragged" and target and isinstance(target[0], list):
                target[0] = target[0][:-1]
            elif kind == "nest":
                target[:] = [list(target)]
            elif kind == "empty":
                target[:] = []
            elif kind == "flatten" and target and isinstance(target[0], list):
                target[:] = [x for row in target for x in row]
            ops.append(f"shape:{kind}")
        elif op == "number" and isinstance(target, int | float) and not isinstance(target, bool):
            value = float(target) * float(rng.choice([-1.0, 0.0, 0.5, 2.0, 1e6, 1e-6, 1e300]))
            doc = _set(doc, path, value)
            ops.append("number:scale")
        elif op == "swap_type":
            options = [[target], {"v": target}, str(target)[:20]]
            doc = _set(doc, path, options[int(rng.integers(3))])
            ops.append("swap_type")
        elif op == "deep":
            depth = int(rng.choice([70, 3000]))
            doc = _set(doc, path, Raw("[" * depth + "]" * depth))
            ops.append(f"deep:{depth}")
        else:
            ops.append("text")
    text = dump(doc)
    if "text" in ops:
        kind = rng.choice(["truncate", "bad_byte", "bom", "duplicate", "flip"])
        raw = text.encode()
        if kind == "truncate":
            return raw[: int(rng.integers(len(raw)))], "+".join(ops) + ":truncate"
        if kind == "bad_byte":
            k = int(rng.integers(len(raw)))
            return raw[:k] + b"\xff\xfe" + raw[k:], "+".join(ops) + ":non-utf8"
        if kind == "bom":
            return b"\xef\xbb\xbf" + raw, "+".join(ops) + ":bom"
        if kind == "flip":
            k = int(rng.integers(len(raw)))
            return raw[:k] + bytes([int(rng.integers(32, 127))]) + raw[k + 1:], \
                "+".join(ops) + ":flip"
        key = rng.choice(["tau", "alpha", "queue", "version", "gain"])
        return text.replace(f'"{key}": ', f'"{key}": 0.5, "{key}": ', 1), \
            "+".join(ops) + ":duplicate"
    return text, "+".join(ops)


# ----------------------------------------------------------------------------- oracles


def _permissive(text: str | bytes) -> Any:
    """Parse as leniently as Python's json, keeping duplicates and literal constants."""
    if isinstance(text, bytes):
        text = text.decode("utf-8-sig")

    def pairs(items: list) -> dict:
        out: dict = {}
        for k, v in items:
            if k in out:
                raise _Coerced(f"duplicated key {k!r} accepted")
            out[k] = v
        return out

    return json.loads(text, object_pairs_hook=pairs, parse_constant=lambda c: Raw(c))


class _Coerced(Exception):
    pass


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(float(x))


def _same_numbers(name: str, written: Any, read: np.ndarray) -> None:
    arr = np.array(written, dtype=object)
    if arr.shape != read.shape:
        raise _Coerced(f"{name}: shape {arr.shape} written, {read.shape} read")
    for w, r in zip(arr.ravel().tolist(), read.ravel().tolist(), strict=True):
        if not _is_number(w) or float(w) != float(r):
            raise _Coerced(f"{name}: {w!r} written, {r!r} read")


def instance_oracle(text: str | bytes, inst: mecopt.Instance) -> None:
    """Raise :class:`_Coerced` unless ``inst`` is exactly what ``text`` says."""
    doc = _permissive(text)
    if set(doc) != {"schema", "version", "instance"}:
        raise _Coerced(f"top-level keys {sorted(doc)} accepted")
    if doc["schema"] != "mecopt.instance" or doc["version"] not in (1, 2) or \
            isinstance(doc["version"], bool):
        raise _Coerced("schema/version accepted")
    fields = doc["instance"]
    known = {f for f in inst.__dataclass_fields__}
    if not isinstance(fields, dict) or set(fields) - known:
        raise _Coerced(f"unknown fields {sorted(set(fields) - known)} accepted")
    for name, value in fields.items():
        got = getattr(inst, name)
        if name == "meta":
            if not isinstance(value, dict) or value != got:
                raise _Coerced("meta differs")
        elif isinstance(got, np.ndarray):
            _same_numbers(name, value, got)
        elif isinstance(got, str):
            if value != got:
                raise _Coerced(f"{name}: {value!r} written, {got!r} read")
        elif got is None:
            if value is not None:
                raise _Coerced(f"{name}: {value!r} written, None read")
        elif not _is_number(value) or float(value) != float(got):
            raise _Coerced(f"{name}: {value!r} written, {got!r} read")
    for name in ("alpha", "acc_local", "acc_edge"):
        a = getattr(inst, name)
        if np.any((a < 0) | (a > 1)):
            raise _Coerced(f"{name} outside [0, 1] accepted")
    for name in ("local_delay", "prompt_bits", "edge_work", "tx_power", "bandwidth", "noise",
                 "capacity", "per_user_cap"):
        if np.any(getattr(inst, name) <= 0):
            raise _Coerced(f"{name} <= 0 accepted")


# ----------------------------------------------------------------------------- runners


def _outcome(fn: Any) -> tuple[str, str]:
    try:
        fn()
    except _Coerced as exc:
        return "silent_coercion", str(exc)
    except (MecoptError, ValueError, FileNotFoundError) as exc:
        msg = str(exc)
        return ("rejected", msg) if msg else ("internal_error", f"empty {type(exc).__name__}")
    except Exception as exc:  # noqa: BLE001 - counting crashes is the point
        return "internal_error", f"{type(exc).__name__}: {exc}"[:300]
    return "accepted", ""


def _cli(argv: list[str]) -> tuple[str, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        try:
            code = cli_main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
    text = err.getvalue()
    if "Traceback" in text:
        return "traceback", text[-300:]
    if code == 3:
        return "internal_error", text.strip()[:300]
    if code == 2:
        return "rejected", text.strip()[:300]
    return "accepted", ""


def _subprocess(argv: list[str]) -> tuple[str, str]:
    out = subprocess.run([sys.executable, "-m", "mecopt", *argv], capture_output=True,
                         text=True, timeout=300, errors="replace")
    if "Traceback" in out.stderr:
        return "traceback", out.stderr[-300:]
    if out.returncode == 3:
        return "internal_error", out.stderr.strip()[:300]
    return ("rejected" if out.returncode == 2 else "accepted"), ""


def base_instances() -> list[dict]:
    """Valid instance documents the mutations start from."""
    insts = [
        mecopt.scenario("kim2026", 6, seed=1),
        mecopt.scenario("uniform", 4, seed=2).replace(max_users=[2, 2, 1]),
        mecopt.scenario("kim2026", 5, seed=3, min_accuracy=0.5, interference="other-cells"),
        mecopt.scenario("uniform", 3, seed=4, queue="mm1", arrival_rate=0.5),
        # Schema version 2: planning estimate, energy, hallucination and objective weights.
        mecopt.scenario("kim2026-published", 5, seed=5).replace(
            local_energy=[0.5, 0.4, 0.3, 0.2, 0.1], energy_budget=[1.0] * 5,
            hall_local=[0.1, 0.2, 0.3, 0.2, 0.1], hall_edge=[0.05] * 5,
            max_hallucination=0.5, cost_accuracy=0.01),
    ]
    return [json.loads(i.to_json()) for i in insts]


def fuzz_instances(count: int, rng: np.random.Generator, tmp: Path, n_sub: int,
                   exact_every: int, record: Any) -> None:
    bases = base_instances()
    sub_every = max(1, count // max(n_sub, 1)) if n_sub else 0
    accepted = 0
    for k in range(count):
        content, label = mutate_instance(bases[k % len(bases)], rng)
        path = tmp / f"inst{k % 50}.json"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        holder: dict[str, Any] = {}

        def api(path: Path = path, content: Any = content, holder: dict = holder) -> None:
            inst = mecopt.Instance.from_json(path)
            instance_oracle(content, inst)
            holder["inst"] = inst
            for solver in ("goa", "local-all", "edge-all", "min-delay"):
                res = mecopt.solve(inst, solver)
                if res.status not in ("feasible", "violates"):
                    raise _Coerced(f"{solver}: status {res.status}")
                if res.success and not math.isfinite(res.objective):
                    raise _Coerced(f"{solver}: feasible with objective {res.objective}")
                res.summary()

        record("instance_api", label, *_outcome(api))
        record("instance_cli", label, *_cli(["solve", "--instance", str(path), "--solver", "goa",
                                             "--json"]))
        if sub_every and k % sub_every == 0:
            record("instance_subprocess", label,
                   *_subprocess(["solve", "--instance", str(path), "--solver", "goa"]))
        if "inst" in holder:
            accepted += 1
            if exact_every and accepted % exact_every == 0:
                record("exact", label, *_exact(holder["inst"]))


def _exact(inst: mecopt.Instance) -> tuple[str, str]:
    """Solver-side check: highs with a 2 s limit against the heuristics."""
    try:
        t0 = time.perf_counter()
        res = mecopt.solve(inst, "highs", time_limit=2.0)
        wall = time.perf_counter() - t0
        res.summary()
    except (MecoptError, ValueError) as exc:
        return "exact_rejected", str(exc)[:200]
    except Exception as exc:  # noqa: BLE001
        return "exact_internal_error", f"{type(exc).__name__}: {exc}"[:300]
    heur = [mecopt.solve(inst, s) for s in ("goa", "edge-all", "local-all")]
    if res.status in ("no_solution",) and any(h.success for h in heur):
        return "exact_no_solution_with_feasible_heuristic", res.message[:200]
    if res.status == "optimal" and "fail" in res.message.lower():
        return "exact_optimal_with_failure_message", res.message[:200]
    if wall > 2.0 * 1.1 + 1.0:
        return "exact_time_limit_overrun", f"{wall:.2f} s for a 2 s limit"
    return "exact_ok", ""


# ---- profile CSVs ----


def mutate_csv(base: str, rng: np.random.Generator) -> tuple[bytes, str]:
    lines = base.strip("\n").split("\n")
    header, rows = lines[0].split(","), [r.split(",") for r in lines[1:]]
    kind = rng.choice(["cell", "cell", "cell", "bom", "drop_column", "rename", "dup_column",
                       "rows", "ragged", "bad_byte", "truncate", "extra_column"])
    label = str(kind)
    if kind == "cell":
        tok = rng.choice(["", "nan", "inf", "-inf", "1e30", "-1", "true", "abc", "2", "0.5",
                          "1e400", "1.5", " 1 ", "0x10", "1_000", "9" * 400, "-0"])
        r, c = int(rng.integers(len(rows))), int(rng.integers(len(header)))
        rows[r][c] = str(tok)
        label = f"cell:{header[c]}={tok[:10]}"
    elif kind == "drop_column":
        c = int(rng.integers(len(header)))
        header.pop(c)
        for r in rows:
            r.pop(c)
    elif kind == "rename":
        header[int(rng.integers(len(header)))] = "colour"
    elif kind == "dup_column":
        header[1] = header[0]
    elif kind == "extra_column":
        header.append("colour")
        for r in rows:
            r.append("1")
    elif kind == "rows":
        rows = rows[: int(rng.choice([0, 1, 2]))]
    elif kind == "ragged":
        rows[0] = rows[0][:-1]
    text = "\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n"
    raw = text.encode()
    if kind == "bom":
        raw = b"\xef\xbb\xbf" + raw
    elif kind == "bad_byte":
        raw = raw[:40] + b"\xff" + raw[40:]
    elif kind == "truncate":
        raw = raw[: int(rng.integers(len(raw)))]
    return raw, label


def csv_oracle(raw: bytes, records: Any) -> None:
    import csv

    text = raw.decode("utf-8-sig")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    cols = records.columns()
    for j, name in enumerate(header):
        for i, row in enumerate(rows[1:]):
            cell = row[j].strip()
            got = cols[name][i]
            if name in ("id", "task"):
                continue
            if name.endswith("_correct"):
                if cell.lower() not in {"0", "1", "0.0", "1.0", "true", "false", "yes", "no"}:
                    raise _Coerced(f"{name} row {i}: {cell!r} read as {got!r}")
                continue
            try:
                value = float(cell)
            except ValueError:
                raise _Coerced(f"{name} row {i}: {cell!r} read as {got!r}") from None
            if not math.isfinite(value) or value != float(got) or value < 0:
                raise _Coerced(f"{name} row {i}: {cell!r} read as {got!r}")


def fuzz_csvs(count: int, rng: np.random.Generator, tmp: Path, record: Any) -> None:
    from mecopt.profiles import Profile, Provenance, read_records

    base = (Path(__file__).resolve().parents[2] / "tests" / "data" / "records_small.csv"
            ).read_text()
    prov = Provenance(description="fuzz", synthetic=True, models={"local": "x", "edge": "y"},
                      dataset={"file": "x"}, hardware={"note": "x"}, software={"note": "x"})
    for k in range(count):
        raw, label = mutate_csv(base, rng)
        path = tmp / f"rec{k % 20}.csv"
        path.write_bytes(raw)

        def api(path: Path = path, raw: bytes = raw) -> None:
            records = read_records(path)
            csv_oracle(raw, records)
            profile = Profile("fuzz", records, prov)
            profile.statistics()
            profile.sample(5, np.random.default_rng(0))

        record("csv_api", label, *_outcome(api))
        record("csv_cli", label, *_cli(["profile", "fit", str(path), "-o",
                                        str(tmp / "fit" / "p.json")]))


# ---- bench specs ----


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else
                                            "-inf" if v == -math.inf else repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(v)


def to_toml(spec: dict) -> str:
    out = ["[sweep]"] + [f"{k} = {_toml_value(v)}" for k, v in spec["sweep"].items()]
    for g in spec["grid"]:
        out.append("[[grid]]")
        out += [f"{k} = {_toml_value(v)}" for k, v in g.items()]
    return "\n".join(out) + "\n"


BASE_SPEC = {
    "sweep": {"name": "fuzz", "threads": 1, "hard_limit": 60, "grace": 5},
    "grid": [{"scenario": "kim2026", "n_users": {"start": 5, "stop": 10, "step": 5},
              "seeds": {"start": 0, "count": 2},
              "solvers": ["goa", {"name": "highs", "time_limit": 5, "max_n": 10}],
              "options": {"tau": [0.6, 1.0], "interference": "none"}}],
}
SPEC_TOKENS: list[Any] = [5, "x", True, 1.5, -1, math.inf, math.nan, [], {}, "goa", 99999999999,
                          [1, "a"], 0, "kim2026", -100, 1e300, [0.6, 5], "mmm", {"start": -3},
                          {"start": 0, "count": -1}, {"start": 0, "stop": 3, "step": 0}]


def mutate_spec(rng: np.random.Generator) -> tuple[str, str]:
    spec = json.loads(json.dumps(BASE_SPEC))
    paths = [p for p in _paths(spec) if p]
    path = paths[int(rng.integers(len(paths)))]
    op = rng.choice(["token", "token", "delete", "unknown"])
    if op == "token":
        tok = SPEC_TOKENS[int(rng.integers(len(SPEC_TOKENS)))]
        _set(spec, path, tok)
        label = f"token:{'.'.join(map(str, path))}={tok!r}"[:60]
    elif op == "delete":
        del _get(spec, path[:-1])[path[-1]]
        label = f"delete:{'.'.join(map(str, path))}"
    else:
        holder = _get(spec, path[:-1])
        if isinstance(holder, dict):
            holder["colour"] = 1
        label = "unknown_key"
    try:
        return to_toml(spec), label
    except (TypeError, KeyError, IndexError, AttributeError):
        return "sweep = 5\n", label + ":not-a-table"


def spec_oracle(spec: Any) -> None:
    from mecopt.solve import get_solver

    for t in spec.tasks:
        if not (isinstance(t.n_users, int) and 1 <= t.n_users <= 1_000_000):
            raise _Coerced(f"n_users {t.n_users!r}")
        if not isinstance(t.seed, int) or isinstance(t.seed, bool) or t.seed < 0:
            raise _Coerced(f"seed {t.seed!r}")
        if not isinstance(t.threads, int) or isinstance(t.threads, bool) or t.threads < 1:
            raise _Coerced(f"threads {t.threads!r}")
        if t.time_limit is not None and not (math.isfinite(t.time_limit) and t.time_limit > 0):
            raise _Coerced(f"time_limit {t.time_limit!r}")
        if not (math.isfinite(t.hard_limit) and t.hard_limit > 0):
            raise _Coerced(f"hard_limit {t.hard_limit!r}")
        get_solver(t.solver)
        json.dumps(dict(t.overrides), allow_nan=False)
    for scen, overrides in {(t.scenario, json.dumps(dict(t.overrides), sort_keys=True))
                            for t in spec.tasks}:
        mecopt.scenario(scen, 2, 0, **json.loads(overrides))


def fuzz_specs(count: int, rng: np.random.Generator, tmp: Path, record: Any) -> None:
    from mecopt.bench import load_spec

    for k in range(count):
        text, label = mutate_spec(rng)
        path = tmp / f"spec{k % 20}.toml"
        path.write_text(text)
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            label = "invalid-toml:" + label

        def api(path: Path = path) -> None:
            spec_oracle(load_spec(path))

        record("spec_api", label, *_outcome(api))
        record("spec_cli", label, *_cli(["bench", "run", str(path), "--dry-run"]))


# ----------------------------------------------------------------------------- main


PARTS = ("instances", "csvs", "specs", "surfaces")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--csvs", type=int, default=1_000)
    parser.add_argument("--specs", type=int, default=1_000)
    parser.add_argument("--surfaces", type=int, default=1_000,
                        help="cases per newer surface (longterm CLI, train, variants, "
                             "longterm API, longterm/train specs)")
    parser.add_argument("--subprocess", type=int, default=100,
                        help="instance files also run through a real subprocess")
    parser.add_argument("--surface-subprocess", type=int, default=10,
                        help="cases per newer CLI surface also run through a real subprocess")
    parser.add_argument("--exact-every", type=int, default=50,
                        help="solve every k-th accepted instance with highs (0: never)")
    parser.add_argument("--parts", default=",".join(PARTS),
                        help="parts to run (others keep their committed results): "
                             + ", ".join(PARTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(Path(__file__).parent))
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"--parts: unknown {unknown}; valid: {', '.join(PARTS)}")
    out = Path(args.out)
    previous = json.loads((out / "results.json").read_text()) \
        if (out / "results.json").is_file() else {}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=Path(__file__).parent).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True,
                                cwd=Path(__file__).parent).stdout.strip())
    warnings.simplefilter("ignore", RuntimeWarning)  # overflow in extreme-but-valid physics
    rng = np.random.default_rng(args.seed)
    result = dict(previous) if set(parts) != set(PARTS) else {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if {"instances", "csvs", "specs"} & set(parts):
            old = [p for p in ("instances", "csvs", "specs") if p in parts]
            recorder = Recorder()
            start, load0 = time.perf_counter(), os.getloadavg()
            if "instances" in parts:
                fuzz_instances(args.instances, rng, tmp, args.subprocess, args.exact_every,
                               recorder)
            if "csvs" in parts:
                fuzz_csvs(args.csvs, rng, tmp, recorder)
            if "specs" in parts:
                fuzz_specs(args.specs, rng, tmp, recorder)
            result.update(recorder.summary(("internal_error", "traceback", "silent_coercion")))
            result.update({
                "command": "python benchmarks/fuzz/run.py " + " ".join(sys.argv[1:]),
                "seed": args.seed, "commit": commit, "mecopt": mecopt.__version__,
                "python": platform.python_version(),
                "elapsed_s": round(time.perf_counter() - start, 1),
                "loadavg_start": load0, "loadavg_end": os.getloadavg(),
                "inputs": {"instances": args.instances, "csvs": args.csvs, "specs": args.specs},
            })
            del old
        if "surfaces" in parts:
            from surfaces import BAD, fuzz_surfaces

            recorder = Recorder()
            start, load0 = time.perf_counter(), os.getloadavg()
            counts = dict.fromkeys(("longterm_cli", "train", "variants", "longterm_api",
                                    "specs"), args.surfaces)
            fuzz_surfaces(counts, rng, tmp, args.surface_subprocess, recorder,
                          log=lambda m: print(m, file=sys.stderr, flush=True))
            result["surfaces"] = {
                "command": "python benchmarks/fuzz/run.py " + " ".join(sys.argv[1:]),
                "seed": args.seed, "commit": commit, "uncommitted_changes": dirty,
                "mecopt": mecopt.__version__, "python": platform.python_version(),
                "elapsed_s": round(time.perf_counter() - start, 1),
                "loadavg_start": load0, "loadavg_end": os.getloadavg(),
                "cases_per_surface": args.surfaces,
                "subprocess_per_surface": args.surface_subprocess,
                **recorder.summary(BAD + ("unclear", "rejected_valid")),
            }
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    (out / "results.md").write_text(text)
    print(text)


class Recorder:
    """Counts outcomes per channel and mutation, keeps examples of the non-clean ones."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = {}
        self.examples: dict[str, list[dict]] = {}
        self.by_label: dict[str, Counter] = {}

    def __call__(self, channel: str, label: str, outcome: str, message: str) -> None:
        self.counts.setdefault(channel, Counter())[outcome] += 1
        self.by_label.setdefault(f"{channel}:{outcome}", Counter())[label.split(":")[0]] += 1
        key = f"{channel}:{outcome}"
        clean = outcome in ("accepted", "rejected", "exact_ok")
        if len(self.examples.get(key, [])) < (3 if clean else 20):
            self.examples.setdefault(key, []).append({"mutation": label, "message": message})

    def summary(self, bad: tuple[str, ...]) -> dict[str, Any]:
        return {
            "totals": {b: sum(c[b] for c in self.counts.values()) for b in bad},
            "counts": {k: dict(v) for k, v in self.counts.items()},
            "by_mutation": {k: dict(v) for k, v in sorted(self.by_label.items())},
            "examples": self.examples,
        }


def markdown(result: dict[str, Any]) -> str:
    """``results.md`` from ``results.json``."""
    lines = ["# Fuzz results (measured)", ""]
    if "counts" in result:
        totals = result["totals"]
        inputs = result["inputs"]
        lines += [
            "## Instances, profile CSVs, bench specs", "",
            f"Command: `{result['command']}` (seed {result['seed']}, commit {result['commit']}, "
            f"{result['elapsed_s']:.0f} s, load average {result['loadavg_start'][0]:.2f} at "
            "start).", "",
            f"Inputs: {inputs['instances']} mutated instance files (API and CLI in process, "
            "a sample through `python -m mecopt`), "
            f"{inputs['csvs']} profile CSVs, {inputs['specs']} bench specs.", "",
            "**Totals: " + ", ".join(f"{v} {k.replace('_', ' ')}s" for k, v in totals.items())
            + ".**", "",
            "| channel | accepted | rejected | internal error | traceback | silent coercion |",
            "|---|---|---|---|---|---|",
        ]
        for ch, c in result["counts"].items():
            if ch == "exact":
                continue
            lines.append(f"| {ch} | {c.get('accepted', 0)} | {c.get('rejected', 0)} | "
                         f"{c.get('internal_error', 0)} | {c.get('traceback', 0)} | "
                         f"{c.get('silent_coercion', 0)} |")
        if "exact" in result["counts"]:
            lines += ["", "Solver side (every k-th accepted instance solved by `highs`, 2 s "
                      "limit): " + ", ".join(f"{k} {v}" for k, v in
                                             sorted(result["counts"]["exact"].items())) + "."]
        lines.append("")
    if "surfaces" in result:
        r = result["surfaces"]
        t = r["totals"]
        lines += [
            "## Newer surfaces: longterm CLI, train, variants, longterm API, longterm/train "
            "specs (issue 22)", "",
            f"Command: `{r['command']}` (seed {r['seed']}, commit {r['commit']}"
            + (" plus uncommitted changes of sessions working at the same time"
               if r.get("uncommitted_changes") else "")
            + f", {r['elapsed_s']:.0f} s, load average {r['loadavg_start'][0]:.2f} at start, "
            f"{r['loadavg_end'][0]:.2f} at the end; a shared machine).", "",
            f"{r['cases_per_surface']} cases per surface, in process under a wall-clock "
            f"alarm; {r['subprocess_per_surface']} per CLI surface also through "
            "`python -m mecopt` with a timeout. Each case knows from an independent oracle "
            "(`oracles.py`) whether its input is valid. Outcomes: *rejected* = a clean error "
            "naming the mutated field; *unclear* = a clean error that does not name it; "
            "*accepted* = ran, valid (or undecidable) input, sane output (strict JSON, "
            "figures finite and in range, the asked values used, no warning); "
            "*rejected valid* = refused although the oracle calls it valid; *internal* = "
            "exit 3, traceback or a stray exception; *hang* = the alarm or timeout fired; "
            "*silent nonsense* = accepted although invalid, or nonsense output.", "",
            f"**Totals: {t['internal_error']} internal errors, {t['hang']} hangs, "
            f"{t['silent_nonsense']} silent acceptances of nonsense** "
            f"({t['unclear']} unclear errors, {t['rejected_valid']} valid inputs rejected).", "",
            "| surface | cases | accepted | rejected | unclear | rejected valid | internal "
            "| hang | silent nonsense |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for ch, c in r["counts"].items():
            n = sum(c.values())
            lines.append(f"| {ch} | {n} | {c.get('accepted', 0)} | {c.get('rejected', 0)} | "
                         f"{c.get('unclear', 0)} | {c.get('rejected_valid', 0)} | "
                         f"{c.get('internal_error', 0)} | {c.get('hang', 0)} | "
                         f"{c.get('silent_nonsense', 0)} |")
        odd = [(k, e) for k, v in r["examples"].items()
               if not k.endswith((":accepted", ":rejected")) for e in v]
        if odd:
            lines += ["", "Every case that was not cleanly accepted or rejected:", ""]
            lines += [f"- `{k}` ({e['mutation']}): " + " ".join(e['message'].split())[:300]
                      for k, e in odd]
        lines.append("")
    lines += ["Examples of every outcome other than accepted/rejected are in `results.json` "
              "(`examples`)."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
