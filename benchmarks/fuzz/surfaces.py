"""Fuzz the surfaces added after the instance files (issue 22, section 3).

Five surfaces, each with its own generator of mutated inputs and an oracle
(:mod:`oracles`) that knows, independently of mecopt's checks, whether the input is valid:

- ``longterm_cli``: ``mecopt longterm simulate|hindsight|compare`` argument lists;
- ``train``: ``mecopt train`` argument lists (tiny runs: a few steps, 2 devices);
- ``variants``: ``mecopt variants list|show|pareto|build|deploy`` argument lists;
- ``longterm_api``: ``mecopt.longterm.trace``, ``Trace.load`` on mutated files, ``run``;
- ``specs``: bench specs of kinds ``longterm`` and ``train`` (``load_spec`` and
  ``mecopt bench run --dry-run``).

Every case runs in process under a wall-clock alarm; a sample also runs through a real
``python -m mecopt`` subprocess with a timeout. Each outcome is one of:

- ``rejected``: a clean error (exit 2, or a ``ValueError``/``MecoptError``) whose message
  names the mutated field;
- ``unclear``: a clean error that does not name the mutated field;
- ``accepted``: ran, the oracle calls the input valid (or cannot tell), and the output is
  sane: valid JSON without ``Infinity``/``NaN``, figures finite and in range, the values
  asked for are the values used, no ``RuntimeWarning`` on standard error;
- ``rejected_valid``: a clean error for an input the oracle calls valid (over-strict);
- ``internal_error``: exit 3, a traceback, or an exception outside the clean set;
- ``hang``: the alarm (or the subprocess timeout) fired;
- ``silent_nonsense``: accepted although the oracle calls the input invalid, or accepted
  with a nonsense output.

Targets: 0 internal errors, 0 hangs, 0 silent nonsense.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from oracles import (
    POLICY_OPTIONS,
    SCENARIO_RULES,
    cell_valid,
    learner_valid,
    policy_valid,
    scenario_valid,
)
from run import to_toml

from mecopt.cli import main as cli_main
from mecopt.errors import MecoptError

SURFACES = ("longterm_cli", "train", "variants", "longterm_api", "specs")
BAD = ("internal_error", "hang", "silent_nonsense")


class Hang(Exception):
    """The wall-clock alarm fired."""


class Nonsense(Exception):
    """The output oracle found nonsense in an accepted run."""


@contextlib.contextmanager
def alarm(seconds: float):
    def fire(signum: int, frame: Any) -> None:
        raise Hang(f"no answer within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@dataclass
class Case:
    """One fuzz input: what it is, which field it mutates, the oracle's verdict."""

    label: str
    fields: list[str]
    valid: bool | None
    argv: list[str] | None = None
    call: Callable[[], Any] | None = None
    check: Callable[[str, str], None] | None = None  # (stdout, stderr) -> raise Nonsense
    timeout: float = 120.0
    extra: dict[str, Any] = field(default_factory=dict)


def _norm(text: str) -> str:
    return text.lower().replace("-", "_")


def _names_field(message: str, fields: list[str]) -> bool:
    msg = _norm(message)
    return not fields or any(_norm(f).strip("_") in msg for f in fields)


def strict_json(text: str) -> Any:
    def constant(c: str) -> Any:
        raise Nonsense(f"{c} in JSON output")

    try:
        return json.loads(text, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise Nonsense(f"output is not JSON ({exc})") from None


def classify_cli(case: Case, code: int | None, out: str, err: str, exc: BaseException | None
                 ) -> tuple[str, str]:
    if isinstance(exc, Hang):
        return "hang", str(exc)
    if "Traceback" in err:
        return "internal_error", err[-300:]
    if exc is not None:
        return "internal_error", f"{type(exc).__name__}: {exc}"[:300]
    if code == 3:
        return "internal_error", err.strip()[:300]
    if code == 2:
        if case.valid is True:
            return "rejected_valid", err.strip()[:300]
        return ("rejected" if _names_field(err, case.fields) else "unclear"), err.strip()[:300]
    if code not in (0, None):
        return "internal_error", f"exit code {code}: {err.strip()[:200]}"
    if case.valid is False:
        return "silent_nonsense", f"accepted: {' '.join(case.argv or [])[:250]}"
    if "Warning" in err:
        return "silent_nonsense", f"warning on stderr: {err.strip()[-200:]}"
    if case.check is not None:
        try:
            case.check(out, err)
        except Nonsense as bad:
            return "silent_nonsense", f"{bad} ({' '.join(case.argv or [])})"[:400]
    return "accepted", ""


def run_cli(case: Case) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    code: int | None = None
    exc: BaseException | None = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings():
        warnings.simplefilter("default")
        try:
            with alarm(case.timeout):
                code = cli_main(case.argv)
        except SystemExit as e:  # argparse
            code = e.code if isinstance(e.code, int) else 2
        except Hang as e:
            exc = e
        except Exception as e:  # noqa: BLE001 - counting crashes is the point
            exc = e
    return classify_cli(case, code, out.getvalue(), err.getvalue(), exc)


def run_subprocess(case: Case) -> tuple[str, str]:
    try:
        proc = subprocess.run([sys.executable, "-m", "mecopt", *case.argv], capture_output=True,
                              text=True, timeout=max(case.timeout, 300), errors="replace")
    except subprocess.TimeoutExpired:
        return "hang", f"subprocess timeout: {case.argv}"
    return classify_cli(case, proc.returncode, proc.stdout, proc.stderr, None)


def run_api(case: Case) -> tuple[str, str]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # outputs are checked instead
            with alarm(case.timeout):
                result = case.call()
    except Hang as e:
        return "hang", str(e)
    except Nonsense as e:
        return "silent_nonsense", str(e)[:300]
    except (MecoptError, ValueError, FileNotFoundError, TypeError) as e:
        msg = str(e)
        if isinstance(e, TypeError) and "must be a mecopt.longterm.Trace" not in msg:
            return "internal_error", f"TypeError: {msg}"[:300]
        if not msg:
            return "internal_error", f"empty {type(e).__name__}"
        if case.valid is True:
            return "rejected_valid", msg[:300]
        return ("rejected" if _names_field(msg, case.fields) else "unclear"), msg[:300]
    except Exception as e:  # noqa: BLE001
        return "internal_error", f"{type(e).__name__}: {e}"[:300]
    if case.valid is False:
        return "silent_nonsense", f"accepted: {case.label}"
    if case.check is not None:
        try:
            case.check(result, "")
        except Nonsense as bad:
            return "silent_nonsense", str(bad)[:300]
    return "accepted", ""


# ================================================================ value tokens

#: JSON tokens for a KEY=VALUE option and the Python value they mean.
JSON_TOKENS: list[tuple[str, Any]] = [
    ("0.5", 0.5), ("2", 2), ("0", 0), ("-1", -1), ("1", 1), ("0.05", 0.05), ("3", 3),
    ("1e300", 1e300), ("true", True), ('"0.5"', "0.5"), ("NaN", math.nan),
    ("Infinity", math.inf), ("-Infinity", -math.inf), ("null", None), ("[]", []), ("{}", {}),
    ("abc", "abc"), ('"abc"', "abc"), ("1e400", math.inf), ("0.9", 0.9), ("1.5", 1.5),
    ("8", 8), ("1e-3", 1e-3), ("100", 100),
]
#: Tokens for an integer flag.
INT_TOKENS = ["0", "1", "2", "3", "-1", "-5", "abc", "1.5", "", "inf", "nan", "1e3",
              "1000000000", "1000000000000", "99999999999999999999999", "4", "7"]
#: Tokens for a float flag.
FLOAT_TOKENS = ["5", "0.5", "0", "-1", "nan", "inf", "-inf", "abc", "", "1e400", "30"]


def _int_valid(token: str, low: int, high: int) -> bool:
    try:
        v = int(token)
    except ValueError:
        return False
    return low <= v <= high


def _float_pos(token: str) -> bool:
    try:
        v = float(token)
    except ValueError:
        return False
    return math.isfinite(v) and v > 0


def pick(rng: np.random.Generator, seq: list) -> Any:
    return seq[int(rng.integers(len(seq)))]


# ================================================================ output oracles


def _unit(name: str, v: Any) -> None:
    if v is None or not isinstance(v, int | float) or not 0 <= v <= 1:
        raise Nonsense(f"{name} = {v!r} outside [0, 1]")


def _nonneg(name: str, v: Any) -> None:
    if v is None or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        raise Nonsense(f"{name} = {v!r}: not a finite number >= 0")


def check_summary(doc: dict, *, horizon: int | None = None, devices: int | None = None,
                  scenario: dict | None = None, status_ok: bool = False) -> None:
    """A rollout summary (``simulate``/``hindsight --json``) is sane and honours the input."""
    lat = doc.get("mean_latency")
    info = doc.get("info") or {}
    status = info.get("status")
    if lat is None and status_ok and status and all(s in ("infeasible", "no_solution")
                                                     for s in status):
        pass
    else:
        _nonneg("mean_latency", lat)
    _nonneg("energy_mean", doc.get("energy_mean"))
    for key in ("accuracy", "hallucination", "offload_share"):
        if doc.get("n_queries"):
            _unit(key, doc.get(key))
    if horizon is not None and doc.get("horizon") != horizon:
        raise Nonsense(f"horizon {doc.get('horizon')} run, {horizon} asked")
    if devices is not None and doc.get("n_devices") != devices:
        raise Nonsense(f"n_devices {doc.get('n_devices')} run, {devices} asked")
    if doc.get("feasible") and doc.get("violations"):
        raise Nonsense("feasible with violations")
    for key, value in (scenario or {}).items():
        got = (doc.get("scenario") or {}).get(key)
        if isinstance(value, bool) or got != value or type(got) is bool:
            raise Nonsense(f"scenario {key}: {value!r} asked, {got!r} used")


# ================================================================ longterm CLI


class LongtermFiles:
    """Prepared files the longterm mutations point at (valid and damaged traces...)."""

    def __init__(self, tmp: Path) -> None:
        import mecopt.longterm as lt

        self.tmp = tmp
        d = tmp / "lt"
        d.mkdir(exist_ok=True)
        one = lt.trace(n_devices=3, horizon=5, seed=0)
        two = lt.trace(n_devices=3, horizon=5, seed=[0, 1])
        self.one = str(one.save(d / "one.npz"))
        self.two = str(two.save(d / "two.npz"))
        raw = Path(self.one).read_bytes()
        self.damaged: dict[str, str] = {}
        for name, content in {
            "truncated": raw[: len(raw) // 2], "empty": b"", "text": b"hello",
            "flipped": raw[:300] + bytes([raw[300] ^ 0xFF]) + raw[301:],
        }.items():
            p = d / f"{name}.npz"
            p.write_bytes(content)
            self.damaged[name] = str(p)
        for name, fld, value in (("nan_alpha", "alpha", np.nan), ("neg_delay", "local_delay", -1e3),
                                 ("acc75", "acc_local", 7.5), ("zero_cap", "capacity", 0.0),
                                 ("zero_bw", "bandwidth", 0.0), ("inf_gain", "gain", np.inf)):
            arr = np.array(getattr(one, fld))
            arr[(0,) * arr.ndim] = value
            self.damaged[name] = write_trace(d / f"{name}.npz", one, **{fld: arr})
        self.damaged["str_alpha"] = write_trace(d / "str.npz", one,
                                                alpha=np.full(one.alpha.shape, "a"))
        self.damaged["scalar_cap"] = write_trace(d / "scal.npz", one, capacity=np.float64(1e15))
        self.damaged["meta_list"] = write_trace(d / "ml.npz", one, __meta__="[1]")
        self.damaged["meta_version"] = write_trace(d / "mv.npz", one, __meta__=json.dumps(
            {"schema": "mecopt.longterm.trace", "version": "1", "scenario": {}, "seeds": [0]}))
        self.directory = str(d)
        self.missing = str(d / "missing.npz")
        self.file = str(d / "plain.txt")
        Path(self.file).write_text("x")
        self.notdb = str(d / "notdb.sqlite")
        Path(self.notdb).write_text("not a database")
        self.policy_zip = str(d / "fake_policy.zip")
        with zipfile.ZipFile(self.policy_zip, "w") as z:
            z.writestr("data", "{}")
        self.out_counter = 0

    def fresh(self, suffix: str) -> str:
        self.out_counter += 1
        return str(self.tmp / "lt" / f"out{self.out_counter}{suffix}")


def write_trace(path: Path, tr: Any, **changes: Any) -> str:
    import mecopt.longterm as lt

    arrays = {n: getattr(tr, n) for n in lt.traces.ARRAY_FIELDS}
    meta = changes.pop("__meta__", json.dumps({
        "schema": lt.traces.TRACE_SCHEMA, "version": lt.traces.TRACE_VERSION,
        "scenario": tr.scenario.to_dict(), "seeds": list(tr.seeds)}))
    arrays.update(changes)
    buf = io.BytesIO()
    np.savez_compressed(buf, __meta__=np.array(meta), **arrays)
    Path(path).write_bytes(buf.getvalue())
    return str(path)


CHEAP_POLICIES = ["local", "offload", "random", "greedy", "goa", "lyapunov"]


def longterm_cli_case(rng: np.random.Generator, files: LongtermFiles) -> Case:
    cmd = pick(rng, ["simulate"] * 7 + ["hindsight"] * 1 + ["compare"] * 2)
    devices, horizon = 3, 5
    flags: dict[str, str | None] = {"--devices": "3", "--horizon": "5"}
    sets: dict[str, str] = {}
    set_values: dict[str, Any] = {}
    options: dict[str, str] = {}
    option_values: dict[str, Any] = {}
    policy = pick(rng, CHEAP_POLICIES) if cmd != "hindsight" else "hindsight"
    if cmd == "compare":
        flags["--devices"] = "2"
        devices, horizon = 2, 4
        flags["--horizon"] = "4"
    verdicts: list[bool | None] = []
    fields: list[str] = []
    labels: list[str] = []
    extra_argv: list[str] = []
    outputs: list[str] = []
    compare_options: list[tuple[str, str, Any]] = []
    trace_file = False
    if cmd != "hindsight" and rng.random() < 0.12:
        policy = pick(rng, [*CHEAP_POLICIES, "nope", "", "ppo:" + files.missing,
                            "ppo:" + files.one, "ppo:" + files.policy_zip, "wm-ppo:"])
        labels.append(f"policy:{policy[:20]}")
        fields.append("polic")
    seen: set[str] = set()
    for _ in range(int(rng.integers(1, 3))):
        kind = pick(rng, ["int", "int", "set", "set", "set", "option", "option",
                          "file", "path", "unknown_flag", "float"])
        if kind in ("file", "path", "unknown_flag", "float"):
            if kind in seen:
                continue
            seen.add(kind)
        if kind == "int":
            flag = pick(rng, {"simulate": ["--devices", "--horizon", "--seed", "--policy-seed"],
                              "hindsight": ["--devices", "--horizon", "--seed"],
                              "compare": ["--devices", "--horizon", "--workers", "--seeds"]}[cmd])
            if flag in seen:
                continue
            seen.add(flag)
            tok = pick(rng, INT_TOKENS)
            low = 0 if flag in ("--seed", "--policy-seed", "--seeds") else 1
            high = {"--devices": 8, "--horizon": 8, "--workers": 8, "--seeds": 2**32 - 1
                    }.get(flag, 2**200)
            ok = _int_valid(tok, low, high)
            if flag in ("--devices", "--horizon", "--workers") and _int_valid(tok, 9, 10**6):
                continue  # legal, but too heavy for a fuzz case
            if ok and flag == "--devices":
                devices = int(tok)
            if ok and flag == "--horizon":
                horizon = int(tok)
            flags[flag] = tok
            verdicts.append(ok)
            fields.append(flag)
            labels.append(f"int:{flag}")
        elif kind == "float" and cmd == "hindsight":
            tok = pick(rng, FLOAT_TOKENS)
            flags["--time-limit"] = tok
            verdicts.append(_float_pos(tok))
            fields.append("--time-limit")
            labels.append("float:--time-limit")
        elif kind == "set":
            key = pick(rng, [*SCENARIO_RULES, "colour", "slot-s"])
            tok, value = pick(rng, JSON_TOKENS)
            if key in ("profile", "device", "arrival"):
                tok, value = pick(rng, [('"synthetic"', "synthetic"), ('"nope"', "nope"),
                                        ('"babi-tiny"', "babi-tiny"), ("5", 5),
                                        ('"phone-1b-lowpower"', "phone-1b-lowpower"),
                                        ('"poisson"', "poisson"), ("bernoulli", "bernoulli")])
            norm = key.replace("-", "_")
            if norm in sets:
                continue
            sets[norm] = tok
            set_values[norm] = value
            labels.append(f"set:{norm}")
            fields.append(norm)
        elif kind == "option" and cmd != "compare":
            table = POLICY_OPTIONS.get(policy, {})
            key = pick(rng, [*table, "colour", "seed"] if table else ["colour", "seed", "V"])
            tok, value = pick(rng, JSON_TOKENS + [('["greedy"]', ["greedy"]),
                                                  ('"highs"', "highs")])
            options[key] = tok
            option_values[key] = value
            labels.append(f"option:{key}")
            fields.append(key)
        elif kind == "option":
            pol = pick(rng, [policy, policy, "random", "lyapunov", "nope"])
            key = pick(rng, [*POLICY_OPTIONS.get(pol, {}), "colour", "seed"])
            tok, value = pick(rng, JSON_TOKENS)
            if f"{pol}.{key}" in options:
                continue
            options[f"{pol}.{key}"] = tok
            compare_options.append((pol, key, value))
            fields.append(key if pol == policy else pol)
            labels.append(f"option:{pol}.{key}")
        elif kind == "file" and cmd != "compare":
            name = pick(rng, ["one", "two", "two_member", "two_member_bad", "conflict",
                              *files.damaged, "directory", "missing"])
            trace_file = True
            labels.append(f"trace:{name}")
            fields.append("trace")
            if name == "one":
                extra_argv += ["--trace", files.one]
                verdicts.append(True)
            elif name == "two":
                extra_argv += ["--trace", files.two]
                verdicts.append(False)
            elif name == "two_member":
                extra_argv += ["--trace", files.two, "--member", "1"]
                verdicts.append(True)
            elif name == "two_member_bad":
                extra_argv += ["--trace", files.two, "--member", pick(rng, ["2", "-1", "9"])]
                verdicts.append(False)
                fields.append("member")
            elif name == "conflict":
                extra_argv += ["--trace", files.one]
                flags["--devices"] = "3"
                verdicts.append(False)
                fields.append("ignored")
                trace_file = "conflict"
            else:
                path = {"directory": files.directory, "missing": files.missing}.get(
                    name, files.damaged.get(name))
                extra_argv += ["--trace", path]
                verdicts.append(False)
                fields += [Path(path).name, "trace"] + [
                    f for f in ("alpha", "local_delay", "acc_local", "capacity", "bandwidth",
                                "gain") if f in name or name.split("_")[-1] in f]
        elif kind == "path":
            if cmd == "simulate":
                flag = pick(rng, ["--save", "--save-trace"])
            elif cmd == "compare":
                flag = pick(rng, ["--db", "--plot"])
            else:
                continue
            target = pick(rng, ["", "dir", "under_file", "fresh", "notdb", "badsuffix"])
            suffix = {"--plot": ".png", "--db": ".sqlite"}.get(flag, ".npz")
            path = {"": "", "dir": files.directory, "under_file": files.file + "/x" + suffix,
                    "notdb": files.notdb, "badsuffix": files.fresh(".txt"),
                    "fresh": files.fresh(suffix)}[target]
            ok = target == "fresh" or (target == "badsuffix" and flag != "--plot") or (
                target == "notdb" and flag in ("--save", "--save-trace"))
            extra_argv += [flag, path]
            verdicts.append(ok)
            fields.append(flag)
            labels.append(f"path:{flag}:{target}")
            if ok and target != "notdb":
                outputs.append(path)
        elif kind == "unknown_flag":
            # (not a prefix of a real flag: argparse reads --device as --devices on purpose)
            extra_argv += [pick(rng, ["--colour", "--devicez"]), "3"]
            verdicts.append(False)
            fields.append("unrecognized")
            labels.append("unknown_flag")
    if trace_file:
        if trace_file != "conflict":
            mutated = [f for f in ("--devices", "--horizon", "--seed")
                       if any(lab == f"int:{f}" for lab in labels)]
            for f in ("--devices", "--horizon"):
                if f not in mutated:
                    flags.pop(f, None)
            if mutated or any(lab.startswith("set:") for lab in labels):
                verdicts.append(False)  # a flag the trace file would make meaningless
                fields.append("ignored")
        devices, horizon = 3, 5
    if sets and not trace_file:
        verdicts.append(scenario_valid(set_values))
    if cmd != "compare" and any(lab.startswith("option:") for lab in labels):
        if "seed" in option_values:
            verdicts.append(False)
        else:
            verdicts.append(policy_valid(policy, option_values))
    if policy not in CHEAP_POLICIES and cmd != "hindsight":
        verdicts.append(False)
    for pol, key, value in compare_options:
        verdicts.append(False if pol != policy or key == "seed"
                        else policy_valid(pol, {key: value}))
    argv = ["longterm", cmd, "--no-progress", "--json"]
    for flag, tok in flags.items():
        if tok is not None:
            argv += [flag, tok]
    for key, tok in sets.items():
        argv += ["--set", f"{key}={tok}"]
    for key, tok in options.items():
        argv += ["--option", f"{key}={tok}"]
    if cmd == "simulate":
        argv += ["--policy", policy]
    elif cmd == "compare":
        argv += ["--policies", policy if policy else ""]
    argv += extra_argv
    valid = _combine(verdicts)
    scen_asked = {k: v for k, v in set_values.items() if k in SCENARIO_RULES}

    def check(out: str, err: str) -> None:
        doc = strict_json(out)
        if cmd == "compare":
            rows = doc.get("rows") or []
            if not rows:
                raise Nonsense("no rows")
            for r in rows:
                if r.get("status") in ("error", "crashed", "timeout"):
                    raise Nonsense(f"error row accepted: {r.get('message', '')[:150]}")
                if r.get("n_users") != devices or r.get("horizon") != horizon:
                    raise Nonsense("compare ran another size than asked")
        else:
            check_summary(doc, horizon=horizon, devices=devices,
                          scenario=scen_asked if cmd == "simulate" else None,
                          status_ok=cmd == "hindsight")
        for path in outputs:
            if not Path(path).is_file():
                raise Nonsense(f"{path} was not written")

    return Case(label="+".join(labels) or "base", fields=fields, valid=valid, argv=argv,
                check=check, timeout=120.0)


def _combine(verdicts: list[bool | None]) -> bool | None:
    if any(v is False for v in verdicts):
        return False
    if any(v is None for v in verdicts):
        return None
    return True


# ================================================================ train


class TrainFiles:
    def __init__(self, tmp: Path) -> None:
        import mecopt.longterm as lt
        from mecopt.rl.features import OBS_VERSION

        self.root = tmp / "train"
        self.root.mkdir(exist_ok=True)
        self.file = self.root / "a_file"
        self.file.write_text("x")
        self.resume_dir = self.root / "resume_u20"
        (self.resume_dir / "checkpoints").mkdir(parents=True, exist_ok=True)
        meta = {"algo": "ppo", "n_devices": 20, "n_servers": 4, "obs_version": OBS_VERSION,
                "scenario": lt.make_scenario("default").to_dict()}
        with zipfile.ZipFile(self.resume_dir / "checkpoints" / "model-64.zip", "w") as z:
            z.writestr("data", json.dumps({"mecopt_meta": meta}))
            z.writestr("policy.pth", b"garbage")
        self.counter = 0

    def fresh(self) -> Path:
        self.counter += 1
        return self.root / f"run{self.counter}"


def _known_learner_options(algo: str) -> set[str]:
    from mecopt.rl.settings import learner_option_names

    return learner_option_names(algo)


def train_case(rng: np.random.Generator, files: TrainFiles) -> Case:
    algo = pick(rng, ["ppo", "ppo", "ppo-lag", "wm-ppo"])
    out = files.fresh()
    flags = {"--algo": algo, "--devices": "2", "--envs": "2", "--horizon": "4", "--steps": "16",
             "--checkpoint-every": "8", "--eval-traces": "0", "--eval-horizon": "4",
             "--seed": "0"}
    sets = {"n_steps": ("8", 8) if algo == "wm-ppo" else ("4", 4), "batch_size": ("8", 8)}
    extra: list[str] = []
    verdicts: list[bool | None] = []
    fields: list[str] = []
    labels: list[str] = []
    seen: set[str] = set()
    for _ in range(int(rng.integers(1, 3))):
        kind = pick(rng, ["int", "int", "steps", "set", "set", "set", "out", "resume", "algo"])
        if kind in ("out", "resume", "algo"):
            if kind in seen:
                continue
            seen.add(kind)
        if kind == "int":
            flag = pick(rng, ["--devices", "--envs", "--horizon", "--eval-traces",
                              "--eval-horizon", "--seed"])
            if flag in seen:
                continue
            seen.add(flag)
            tok = pick(rng, INT_TOKENS + ["400", "301", "300"])
            low = 0 if flag in ("--eval-traces", "--seed") else 1
            high = {"--devices": 4, "--envs": 4, "--horizon": 300, "--eval-traces": 2,
                    "--eval-horizon": 6, "--seed": 10**9}[flag]
            ok = _int_valid(tok, low, high)
            if _int_valid(tok, high + 1, 10**6) and flag not in ("--horizon",):
                continue  # legal but too heavy for a fuzz case
            if flag == "--horizon" and _int_valid(tok, 11, 300):
                continue
            flags[flag] = tok
            verdicts.append(ok)
            fields.append(flag if not (flag == "--horizon" and _int_valid(tok, 301, 10**6))
                          else "horizon")
            labels.append(f"int:{flag}")
        elif kind == "steps":
            flag = pick(rng, ["--steps", "--checkpoint-every"])
            if flag in seen:
                continue
            seen.add(flag)
            tok = pick(rng, ["8", "16", "2e1", "0", "-1", "inf", "1e400", "nan", "abc", "1.5",
                             "", "1e13"])
            ok = tok in ("8", "16", "2e1")
            flags[flag] = tok
            verdicts.append(ok)
            fields.append(flag)
            labels.append(f"steps:{flag}")
        elif kind == "set":
            key = pick(rng, ["n_steps", "batch_size", "n_epochs", "gamma", "gae_lambda",
                             "clip_range", "ent_coef", "vf_coef", "max_grad_norm",
                             "learning_rate", "wm_hidden", "wm_horizon", "value_mix",
                             "pool_length", "colour", "seed", "device"])
            tok, value = pick(rng, JSON_TOKENS)
            if key == "n_steps" and isinstance(value, int) and not isinstance(value, bool) \
                    and value > 8:
                continue  # legal; keep the rollout tiny
            if key == "pool_length" and isinstance(value, int) and value > 300:
                continue
            if key in seen:
                continue
            seen.add(key)
            sets[key] = (tok, value)
            labels.append(f"set:{key}")
            fields.append(key)
        elif kind == "out":
            target = pick(rng, ["", "file", "under_file"])
            out = {"": "", "file": files.file, "under_file": files.file / "sub"}[target]
            verdicts.append(False)
            fields += ["out", "empty path"]
            labels.append(f"out:{target or 'empty'}")
        elif kind == "resume":
            target = pick(rng, ["none", "other_u"])
            extra.append("--resume")
            if target == "other_u":
                out = files.resume_dir
            verdicts.append(False)
            fields += ["resume", "checkpoint"]
            labels.append(f"resume:{target}")
        elif kind == "algo":
            flags["--algo"] = pick(rng, ["nope", "", "PPO"])
            verdicts.append(False)
            fields.append("--algo")
            labels.append("algo")
    learner = {k: v for k, (t, v) in sets.items()}
    algo = flags["--algo"]
    if algo in ("ppo", "ppo-lag", "wm-ppo"):
        reserved = {"seed", "device"} & set(learner)
        if reserved:
            verdicts.append(False)
        else:
            verdicts.append(learner_valid({k: v for k, v in learner.items()},
                                          _known_learner_options(algo)))
        n_steps, batch = learner.get("n_steps"), learner.get("batch_size")
        envs = flags["--envs"]
        if isinstance(n_steps, int) and not isinstance(n_steps, bool) and envs.isdigit() \
                and n_steps * int(envs) < 2:
            verdicts.append(False)
        del batch
        if algo == "wm-ppo" and isinstance(n_steps, int) and not isinstance(n_steps, bool):
            # model rollouts look imag_horizon (4) and wm_horizon (3) slots ahead inside one
            # rollout of n_steps slots
            wm_h = learner.get("wm_horizon", 3)
            ahead = max(4, wm_h if isinstance(wm_h, int) and not isinstance(wm_h, bool) else 3)
            if n_steps <= ahead:
                verdicts.append(False)
                fields.append("n_steps")
        hz, pl = flags["--horizon"], learner.get("pool_length", 300)
        if hz.isdigit() and isinstance(pl, int) and not isinstance(pl, bool) and pl >= 1 \
                and int(hz) > pl:
            verdicts.append(False)
            fields.append("horizon")
    argv = ["train", "--no-progress", "--out", str(out)]
    for flag, tok in flags.items():
        argv += [flag, tok]
    for key, (tok, _v) in sets.items():
        argv += ["--set", f"{key}={tok}"]
    argv += extra
    valid = _combine(verdicts)

    def check(stdout: str, err: str) -> None:
        run = Path(out)
        if not (run / "model.zip").is_file():
            raise Nonsense("no model.zip written")
        doc = strict_json((run / "eval.json").read_text())
        for key, value in learner.items():
            if key in ("pool_length", "pool_size"):
                continue
            got = doc.get("options", {}).get(key)
            if got != value or type(got) is bool and type(value) is not bool:
                raise Nonsense(f"option {key}: {value!r} asked, {got!r} recorded")
        ev = doc.get("eval")
        if ev:
            _nonneg("eval mean_latency", ev.get("mean_latency"))
        shutil.rmtree(run, ignore_errors=True)

    return Case(label="+".join(labels) or "base", fields=fields, valid=valid, argv=argv,
                check=check, timeout=240.0)


# ================================================================ variants


class VariantFiles:
    def __init__(self, tmp: Path) -> None:
        import mecopt

        self.root = tmp / "variants"
        self.root.mkdir(exist_ok=True)
        self.instance = self.root / "i.json"
        self.instance.write_text(mecopt.scenario("kim2026", 4, seed=0).to_json())
        self.bad_instance = self.root / "bad.json"
        self.bad_instance.write_text('{"schema": "mecopt.instance"')
        self.teachers: dict[str, Path] = {}
        for name, config in (("no_config", None), ("bad_config", "{bad"),
                             ("list_config", "[1]"), ("empty_config", "{}")):
            d = self.root / name
            d.mkdir(exist_ok=True)
            if config is not None:
                (d / "config.json").write_text(config)
            self.teachers[name] = d
        self.file = self.root / "a_file"
        self.file.write_text("x")
        self.counter = 0

    def fresh(self, suffix: str) -> str:
        self.counter += 1
        return str(self.root / f"out{self.counter}{suffix}")


def variants_case(rng: np.random.Generator, files: VariantFiles) -> Case:
    import mecopt.variants as mv

    catalogues = mv.available_catalogues()
    names = [v.name for c in catalogues[:2] for v in mv.catalogue(c)][:12]
    cmd = pick(rng, ["list", "show", "pareto", "deploy", "deploy", "deploy", "build"])
    verdicts: list[bool | None] = []
    fields: list[str] = []
    labels: list[str] = [cmd]
    checks: list[Callable[[Any], None]] = []
    if cmd == "list":
        argv = ["variants", "list", "--json"]
        if rng.random() < 0.7:
            cat = pick(rng, [*catalogues, "nope", ""])
            argv += ["--catalogue", cat]
            verdicts.append(cat in catalogues)
            fields.append("catalogue")
        if rng.random() < 0.5:
            dev = pick(rng, [*mv.devices(), "toaster", ""])
            argv += ["--device", dev]
            verdicts.append(dev in mv.devices())
            fields.append("device")
    elif cmd == "show":
        name = pick(rng, [*names, *catalogues, "nope", "", "Llama"])
        argv = ["variants", "show", name, "--json"]
        verdicts.append(name.lower() in {n.lower() for n in names + catalogues})
        fields.append("not found" if name else "variant")
        if rng.random() < 0.5:
            dev = pick(rng, [*mv.devices(), "toaster"])
            argv += ["--device", dev]
            verdicts.append(dev in mv.devices())
            fields.append("device")
    elif cmd == "pareto":
        cat = pick(rng, [*catalogues, "nope"])
        argv = ["variants", "pareto", "--catalogue", cat, "--json"]
        verdicts.append(cat in catalogues)
        fields.append("catalogue")
        if rng.random() < 0.3:
            target = pick(rng, ["fresh", "", "dir", "under_file"])
            path = {"fresh": files.fresh(".png"), "": "", "dir": str(files.root),
                    "under_file": str(files.file / "p.png")}[target]
            argv += ["--plot", path]
            verdicts.append(target == "fresh")
            fields.append("plot")
            labels.append(f"plot:{target}")
    elif cmd == "build":
        teacher = pick(rng, [*files.teachers, "missing", "file"])
        path = {"missing": str(files.root / "missing"), "file": str(files.file)}.get(
            teacher, str(files.teachers.get(teacher, "")))
        argv = ["variants", "build", "--teacher", path, "-o", files.fresh(""), "--quick",
                "--no-progress"]
        labels.append(f"teacher:{teacher}")
        fields.append("teacher")
        if rng.random() < 0.6:
            flag = pick(rng, ["--threads", "--n-train", "--group-size", "--seed"])
            tok = pick(rng, ["0", "-1", "abc", "2", "1.5"])
            argv += [flag, tok]
            fields.append(flag)
            labels.append(f"int:{flag}")
        verdicts.append(False)  # no teacher here holds a model: never valid
    else:
        method = pick(rng, ["greedy", "greedy", "milp", "both"])
        argv = ["variants", "deploy", "--method", method, "--json", "--time-limit", "20"]
        users = 4
        use_instance = rng.random() < 0.2
        if use_instance:
            which = pick(rng, ["good", "bad", "missing", "conflict"])
            path = {"good": files.instance, "bad": files.bad_instance,
                    "missing": files.root / "none.json", "conflict": files.instance}[which]
            argv += ["--instance", str(path)]
            if which == "conflict":
                argv += ["--users", "5"]
            verdicts.append(which == "good")
            fields.append("instance" if which != "bad" else "bad.json")
            labels.append(f"instance:{which}")
        else:
            argv += ["--users", "4"]
        seen: set[str] = set()
        for _ in range(int(rng.integers(1, 3))):
            kind = pick(rng, ["users", "time", "tokens", "devices", "variants", "catalogue",
                              "seed", "set"])
            if kind in seen:
                continue
            seen.add(kind)
            labels.append(kind)
            if kind == "users" and not use_instance:
                tok = pick(rng, ["0", "-1", "3", "abc", "100000000", "200000", "1.5"])
                argv[argv.index("--users") + 1] = tok
                ok = _int_valid(tok, 1, 50)
                if _int_valid(tok, 51, 10**6) and tok != "200000":
                    continue
                verdicts.append(ok)
                fields.append("users")
                if ok:
                    users = int(tok)
            elif kind == "time":
                tok = pick(rng, FLOAT_TOKENS)
                argv[argv.index("--time-limit") + 1] = tok
                verdicts.append(_float_pos(tok))
                fields.append("time_limit")
            elif kind == "tokens":
                tok = pick(rng, ["0", "-1", "16", "abc", "1000000000"])
                argv += ["--output-tokens", tok]
                verdicts.append(_int_valid(tok, 1, 10**6))
                fields.append("output_tokens")
            elif kind == "devices":
                tok = pick(rng, ["phone", "phone,laptop", "", ",", "toaster", "phone,toaster"])
                argv += ["--devices", tok]
                ok = bool(tok.strip(",")) and all(
                    d in mv.devices() for d in tok.split(",") if d)
                verdicts.append(ok)
                fields.append("devices" if ok or not tok.strip(",") else "toaster")
            elif kind == "variants":
                tok = pick(rng, [names[0], f"{names[0]},{names[1]}", "nope", ""])
                argv += ["--variants", tok]
                verdicts.append(tok not in ("nope",) and (tok != "" or None))
                fields.append("variants")
            elif kind == "catalogue":
                cat = pick(rng, [*catalogues, "nope"])
                argv += ["--catalogue", cat]
                # a catalogue whose variants have no accuracy figure cannot be deployed
                verdicts.append(None if cat in catalogues else False)
                fields.append("catalogue")
            elif kind == "seed":
                tok = pick(rng, ["0", "-1", "7", "abc"])
                argv += ["--seed", tok]
                verdicts.append(_int_valid(tok, 0, 10**9))
                fields.append("seed")
            elif kind == "set":
                key = pick(rng, ["tau", "min_accuracy", "colour", "slot_s"])
                tok, value = pick(rng, JSON_TOKENS)
                argv += ["--set", f"{key}={tok}"]
                verdicts.append(None if key in ("tau", "min_accuracy") and (
                    value is None or isinstance(value, float | int)
                    and not isinstance(value, bool) and 0 <= value <= 1) else False)
                fields.append(key)

        def deploy_check(doc: Any) -> None:
            for r in doc:
                if r.get("status") in ("error",):
                    raise Nonsense(f"error status {r}")
                for key in ("mean_delay", "objective", "mean_energy"):
                    if r.get(key) is not None:
                        _nonneg(key, r.get(key))
                if r.get("accuracy") is not None:
                    _unit("accuracy", r.get("accuracy"))
        checks.append(deploy_check)
        del users

    def check(out: str, err: str) -> None:
        doc = strict_json(out)
        for c in checks:
            c(doc)

    return Case(label="+".join(labels), fields=fields, valid=_combine(verdicts), argv=argv,
                check=check, timeout=120.0)


# ================================================================ longterm API


def api_case(rng: np.random.Generator, files: LongtermFiles, tmp: Path) -> Case:
    import mecopt.longterm as lt

    which = pick(rng, ["trace", "trace", "load", "load", "load", "run", "run"])
    if which == "trace":
        kwargs: dict[str, Any] = {"n_devices": 3, "horizon": 4, "seed": 0}
        verdicts: list[bool | None] = []
        fields: list[str] = []
        overrides: dict[str, Any] = {}
        scen: Any = "default"
        seen: set[str] = set()
        for _ in range(int(rng.integers(1, 3))):
            kind = pick(rng, ["size", "seed", "override", "override", "scenario"])
            if kind in ("seed", "scenario"):
                if kind in seen:
                    continue
                seen.add(kind)
            if kind == "size":
                key = pick(rng, ["n_devices", "horizon"])
                if key in seen:
                    continue
                seen.add(key)
                value = pick(rng, [0, -1, 2, 1.5, True, "3", None, 10**9, 10**12,
                                   np.int64(2), 2.0])
                kwargs[key] = value
                ok = isinstance(value, int | np.integer) and not isinstance(value, bool) \
                    and 1 <= value <= 10
                if isinstance(value, int | np.integer) and 10 < value:
                    ok = False if value * 4 > 10**7 else None
                verdicts.append(ok)
                fields.append(key)
            elif kind == "seed":
                value = pick(rng, [0, -1, 5, 1.5, True, "0", None, [0, 1], [], [-1], (2,),
                                   np.int64(3), 10**30, [0, "a"]])
                kwargs["seed"] = value
                seeds = value if isinstance(value, list | tuple) else [value]
                ok = bool(seeds) and all(isinstance(s, int | np.integer)
                                         and not isinstance(s, bool) and s >= 0 for s in seeds)
                if ok and any(int(s) >= 2**128 for s in seeds):
                    ok = None
                verdicts.append(ok)
                fields.append("seed")
            elif kind == "override":
                key = pick(rng, [*SCENARIO_RULES, "colour"])
                value = pick(rng, [v for _t, v in JSON_TOKENS])
                overrides[key] = value
                fields.append(key)
            else:
                scen = pick(rng, ["default", "nope", 5, None, ""])
                fields.append("scenario")
        if scen != "default":
            verdicts.append(False)
        if overrides:
            verdicts.append(scenario_valid(overrides))
        valid = _combine(verdicts)

        def call() -> Any:
            return lt.trace(scen, **kwargs, **overrides)

        def check(tr: Any, _err: str) -> None:
            if tr.n_devices != int(kwargs["n_devices"]) or tr.horizon != int(kwargs["horizon"]):
                raise Nonsense("trace of another size than asked")
            for key, value in overrides.items():
                got = getattr(tr.scenario, key)
                if got != value or isinstance(value, bool):
                    raise Nonsense(f"scenario {key}: {value!r} asked, {got!r} used")
            _check_rollout(lt.run(tr[0], "greedy"))

        label = "trace:" + ",".join(fields)
        return Case(label=label, fields=fields, valid=valid, call=call, check=check,
                    timeout=60.0)
    if which == "load":
        return _load_case(rng, files, tmp)
    # run
    tr = lt.Trace.load(files.one)
    policy = pick(rng, [*CHEAP_POLICIES, "nope", "", 5, None, "ppo:" + files.missing,
                        "ppo:" + files.one, "hindsight"])
    table = POLICY_OPTIONS.get(policy, {}) if isinstance(policy, str) else {}
    options: dict[str, Any] = {}
    fields = []
    verdicts = [isinstance(policy, str) and policy in POLICY_OPTIONS]
    if not verdicts[0]:
        fields.append("polic")
    seed: Any = 0
    target: Any = tr
    seen: set[str] = set()
    for _ in range(int(rng.integers(0, 3))):
        kind = pick(rng, ["option", "option", "seed", "trace"])
        if kind != "option":
            if kind in seen:
                continue
            seen.add(kind)
        if kind == "option":
            key = pick(rng, [*table, "colour"] if table else ["colour", "V"])
            options[key] = pick(rng, [v for _t, v in JSON_TOKENS] + [["greedy"], "highs"])
            fields.append(key)
        elif kind == "seed":
            seed = pick(rng, [0, -1, 3, 1.5, True, "1", None])
            verdicts.append(isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0)
            fields.append("seed")
        else:
            target = pick(rng, [lt.Trace.load(files.two), "trace", None, tr])
            verdicts.append(target is tr)
            fields += ["trace", "B = 2"]
    if options and isinstance(policy, str) and policy in POLICY_OPTIONS:
        verdicts.append(policy_valid(policy, options))
    elif options:
        verdicts.append(False)
    valid = _combine(verdicts)

    def call() -> Any:
        return lt.run(target, policy, seed=seed, **options)

    def check(r: Any, _err: str) -> None:
        _check_rollout(r)
        if r.options != options:
            raise Nonsense(f"options {options} asked, {r.options} recorded")

    return Case(label=f"run:{str(policy)[:16]}:" + ",".join(fields), fields=fields,
                valid=valid, call=call, check=check, timeout=90.0)


def _check_rollout(r: Any) -> None:
    d = r.summary_dict()
    try:
        json.dumps(d, allow_nan=False, default=str)
    except ValueError:
        if not (d.get("info") or {}).get("status"):
            raise Nonsense("non-finite figure in the summary") from None
    check_summary(d, status_ok=True)


def _load_case(rng: np.random.Generator, files: LongtermFiles, tmp: Path) -> Case:
    import mecopt.longterm as lt

    base = lt.Trace.load(pick(rng, [files.one, files.two]))
    path = tmp / f"api{int(rng.integers(20))}.npz"
    kind = pick(rng, ["bytes", "cell", "cell", "cell", "dtype", "shape", "drop", "meta",
                      "meta", "valid", "extra"])
    fields: list[str] = []
    valid: bool | None
    if kind == "bytes":
        write_trace(path, base)
        raw = path.read_bytes()
        op = pick(rng, ["truncate", "flip", "empty", "junk", "zip_other"])
        if op == "truncate":
            raw = raw[: int(rng.integers(len(raw)))]
        elif op == "flip":
            k = int(rng.integers(len(raw)))
            raw = raw[:k] + bytes([raw[k] ^ 0xFF]) + raw[k + 1:]
        elif op == "empty":
            raw = b""
        elif op == "junk":
            raw = bytes(rng.integers(0, 256, size=200, dtype=np.uint8))
        else:
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as z:
                z.writestr("hello.txt", "x")
            raw = buf.getvalue()
        path.write_bytes(raw)
        valid = None if op == "flip" else False  # a flipped byte may land in padding
        fields = [path.name, "trace"]
        label = f"load:bytes:{op}"
    elif kind == "cell":
        name = pick(rng, list(lt.traces.CELL_FIELDS + lt.traces.DEVICE_FIELDS
                              + lt.traces.ES_FIELDS) + ["gain", "position"])
        arr = np.array(getattr(base, name))
        idx = tuple(int(rng.integers(s)) for s in arr.shape)
        value = float(pick(rng, [np.nan, np.inf, -np.inf, -1.0, 0.0, 7.5, 0.5, 1e300, -1e-9,
                                 1e-300, 1.0]))
        arr[idx] = value
        hq = bool(base.has_query[idx[:3]]) if arr.ndim >= 3 else True
        other = None
        if name.startswith(("hall_", "acc_")):
            model = name.split("_")[1]
            partner = "acc_" + model if name.startswith("hall_") else "hall_" + model
            other = float(np.array(getattr(base, partner))[idx])
        valid = cell_valid(name, value, hq, other)
        # the physics must stay finite: a huge delay or tiny gain is legal but may overflow
        if valid and (abs(value) > 1e200 or 0 < abs(value) < 1e-200):
            valid = None
        write_trace(path, base, **{name: arr})
        fields = [name]
        label = f"load:cell:{name}"
    elif kind == "dtype":
        name = pick(rng, list(lt.traces.ARRAY_FIELDS))
        arr = np.array(getattr(base, name))
        op = pick(rng, ["str", "float", "int", "bool", "complex"])
        new = arr.astype({"str": str, "float": float, "int": np.int64, "bool": bool,
                          "complex": complex}[op])
        is_flag = name in lt.traces.FLAG_FIELDS
        if op == "float":
            valid = not is_flag
        elif op == "int":
            valid = None if not is_flag else False  # ints truncate the figures: judged by run
        elif op == "bool":
            valid = is_flag
        else:
            valid = False
        write_trace(path, base, **{name: new})
        fields = [name]
        label = f"load:dtype:{name}:{op}"
    elif kind == "shape":
        name = pick(rng, list(lt.traces.ARRAY_FIELDS))
        arr = np.array(getattr(base, name))
        op = pick(rng, ["scalar", "drop_axis", "extra_axis", "shorter"])
        if op == "scalar":
            new = arr.reshape(-1)[0]
        elif op == "drop_axis":
            new = arr[0]
        elif op == "extra_axis":
            new = arr[None]
        else:
            new = arr[..., :-1] if arr.shape[-1] > 1 else arr[..., :0]
        write_trace(path, base, **{name: new})
        valid = False
        fields = [name, "has_query", "capacity", "shape"]
        label = f"load:shape:{name}:{op}"
    elif kind == "drop":
        name = pick(rng, list(lt.traces.ARRAY_FIELDS) + ["__meta__"])
        arrays = {n: getattr(base, n) for n in lt.traces.ARRAY_FIELDS}
        meta = json.dumps({"schema": lt.traces.TRACE_SCHEMA, "version": 1,
                           "scenario": base.scenario.to_dict(), "seeds": list(base.seeds)})
        arrays["__meta__"] = np.array(meta)
        del arrays[name]
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        path.write_bytes(buf.getvalue())
        valid = False
        fields = [name]
        label = f"load:drop:{name}"
    elif kind == "meta":
        meta: Any = {"schema": lt.traces.TRACE_SCHEMA, "version": 1,
                     "scenario": base.scenario.to_dict(), "seeds": list(base.seeds)}
        op = pick(rng, ["version", "schema", "seeds", "scenario_field", "scenario_type",
                        "unknown", "not_object", "not_json", "n_servers"])
        valid = False
        if op == "version":
            meta["version"] = pick(rng, [2, "1", True, None, 1.0])
            valid = None if meta["version"] == 1.0 and type(meta["version"]) is float else False
            fields = ["version"]
        elif op == "schema":
            meta["schema"] = pick(rng, ["x", None, 5])
            fields = ["schema"]
        elif op == "seeds":
            meta["seeds"] = pick(rng, [[], [0, 1, 2], [-1] * base.batch, ["a"] * base.batch,
                                       [0.5] * base.batch, 5, None, [True] * base.batch])
            fields = ["seeds"]
        elif op == "scenario_field":
            key = pick(rng, [k for k in SCENARIO_RULES if k != "n_servers"])
            value = pick(rng, [v for _t, v in JSON_TOKENS if not (isinstance(v, float)
                                                                   and not math.isfinite(v))])
            meta["scenario"][key] = value
            valid = scenario_valid({key: value})
            fields = [key]
        elif op == "scenario_type":
            meta["scenario"] = pick(rng, [5, "default", None, [1]])
            fields = ["scenario"]
        elif op == "unknown":
            meta["colour"] = 1
            fields = ["colour"]
        elif op == "n_servers":
            meta["scenario"]["n_servers"] = 3
            fields = ["n_servers", "servers"]
        text = {"not_object": "[1, 2]", "not_json": "{bad"}.get(op, json.dumps(meta))
        if op in ("not_object", "not_json"):
            fields = ["meta", "readable", path.name]
        write_trace(path, base, __meta__=text)
        label = f"load:meta:{op}"
    elif kind == "extra":
        write_trace(path, base, colour=np.zeros(3))
        valid = None  # an extra array is not read: harmless
        fields = ["colour"]
        label = "load:extra_array"
    else:
        write_trace(path, base)
        valid = True
        label = "load:valid"

    try:
        written = {n: np.array(np.load(path, allow_pickle=False)[n]) if _has(path, n) else None
                   for n in lt.traces.ARRAY_FIELDS} if valid is not False else {}
    except Exception:  # noqa: BLE001 - a damaged file: nothing to compare with
        written = {}

    def call() -> Any:
        return lt.Trace.load(path)

    def check(tr: Any, _err: str) -> None:
        for n, w in written.items():
            if w is not None and w.shape == getattr(tr, n).shape and \
                    not np.array_equal(np.asarray(w, dtype=getattr(tr, n).dtype),
                                       getattr(tr, n), equal_nan=False):
                raise Nonsense(f"{n}: read values differ from the file")
        for k in range(tr.batch):
            _check_rollout(lt.run(tr[k], "greedy"))

    return Case(label=label, fields=fields, valid=valid, call=call, check=check, timeout=60.0)


def _has(path: Path, name: str) -> bool:
    try:
        with np.load(path, allow_pickle=False) as data:
            return name in data.files
    except Exception:  # noqa: BLE001 - damaged files: nothing to compare
        return False


# ================================================================ specs


def spec_case(rng: np.random.Generator, tmp: Path, files: LongtermFiles) -> Case:
    kind = pick(rng, ["longterm", "longterm", "train"])
    if kind == "longterm":
        solver: dict[str, Any] = {"name": pick(rng, CHEAP_POLICIES), "options": {}}
    else:
        solver = {"name": pick(rng, ["ppo", "ppo-lag", "wm-ppo"]),
                  "options": {"steps": 64, "n_envs": 2, "out_root": str(tmp / "runs")}}
    grid: dict[str, Any] = {"kind": kind, "scenario": "default", "n_users": 3, "horizon": 5,
                            "seeds": [0], "solvers": [solver], "options": {}}
    verdicts: list[bool | None] = []
    fields: list[str] = []
    seen: set[str] = set()
    for _ in range(int(rng.integers(1, 3))):
        op = pick(rng, ["scen", "scen", "solver_opt", "solver_opt", "horizon", "n_users",
                        "policy"])
        if op in ("horizon", "n_users", "policy"):
            if op in seen:
                continue
            seen.add(op)
        value = pick(rng, [v for _t, v in JSON_TOKENS if v is not None and not (
            isinstance(v, float) and math.isnan(v))] + [-5, 0, "nope"])
        if op == "scen":
            key = pick(rng, [*SCENARIO_RULES, "colour"])
            if key in ("profile", "device", "arrival"):
                value = pick(rng, ["nope", "synthetic", 5, "poisson", "phone-1b"])
            if isinstance(value, dict) or value == []:
                value = -1
            grid["options"][key] = value
            fields.append(key)
        elif op == "solver_opt":
            if kind == "longterm":
                table = POLICY_OPTIONS.get(str(solver["name"]), {})
                key = pick(rng, [*table, "colour", "seed"])
            else:
                key = pick(rng, ["steps", "n_envs", "batch_size", "n_steps", "gamma",
                                 "clip_range", "ent_coef", "out_root", "colour", "n_devices"])
            solver["options"][key] = value
            fields.append(key)
        elif op == "horizon":
            grid["horizon"] = pick(rng, [0, -1, 5, 1.5, True, "5", 10**9])
            h = grid["horizon"]
            verdicts.append(isinstance(h, int) and not isinstance(h, bool) and 1 <= h <= 50)
            fields.append("horizon")
            if isinstance(h, int) and not isinstance(h, bool) and h > 50:
                verdicts[-1] = False if h * 3 > 10**7 else None
        elif op == "n_users":
            grid["n_users"] = pick(rng, [0, -1, 3, 1.5, True, "3", 10**7, [2, 3]])
            n = grid["n_users"]
            verdicts.append((isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 50)
                            or n == [2, 3])
            if isinstance(n, int) and not isinstance(n, bool) and n > 50:
                verdicts[-1] = False
            fields.append("n_users")
        else:
            solver["name"] = pick(rng, ["nope", "ppo:" + files.missing, "", 5])
            verdicts.append(False)
            fields.append("name" if solver["name"] != "" else "solvers")
            fields.append("nope" if solver["name"] == "nope" else "polic")
            fields.append("learner" if kind == "train" else "polic")
    if grid["options"]:
        scen_opts = {k: v for k, v in grid["options"].items()}
        verdicts.append(scenario_valid(scen_opts))
    opts = dict(solver["options"])
    if kind == "longterm" and opts:
        verdicts.append(False if "seed" in opts else policy_valid(str(solver["name"]), opts))
    elif kind == "train":
        out_root = opts.pop("out_root", "x")
        if not (isinstance(out_root, str) and out_root.strip()):
            verdicts.append(False)
        if "n_devices" in opts:
            verdicts.append(False)
        for key in ("steps", "n_envs"):
            v = opts.pop(key, 1)
            if not (isinstance(v, int) and not isinstance(v, bool) and v >= 1):
                verdicts.append(False)
        if opts:
            known = _known_learner_options(str(solver["name"])) if solver["name"] in (
                "ppo", "ppo-lag", "wm-ppo") else set()
            verdicts.append(learner_valid(opts, known))
        n_steps = solver["options"].get("n_steps", 64)
        n_envs = solver["options"].get("n_envs", 2)
        if all(isinstance(x, int) and not isinstance(x, bool) for x in (n_steps, n_envs)) \
                and n_steps * n_envs < 2:
            verdicts.append(False)
    spec = {"sweep": {"name": "fuzz", "hard_limit": 60}, "grid": [grid]}
    path = tmp / f"spec{int(rng.integers(20))}.toml"
    try:
        text = to_toml({"sweep": spec["sweep"], "grid": [grid]})
    except TypeError:
        text = "sweep = 5\n"
        verdicts.append(False)
    path.write_text(text)
    valid = _combine(verdicts)

    def call() -> Any:
        from mecopt.bench import load_spec

        return load_spec(path)

    def check(spec_obj: Any, _err: str) -> None:
        for t in spec_obj.tasks:
            if not (isinstance(t.horizon, int) and t.horizon >= 1):
                raise Nonsense(f"horizon {t.horizon!r}")
            if not (isinstance(t.n_users, int) and t.n_users >= 1):
                raise Nonsense(f"n_users {t.n_users!r}")

    label = f"spec:{kind}:" + ",".join(fields)
    return Case(label=label, fields=fields, valid=valid, call=call, check=check, timeout=120.0,
                argv=["bench", "run", str(path), "--dry-run"])


# ================================================================ driver


def fuzz_surfaces(counts: dict[str, int], rng: np.random.Generator, tmp: Path, n_sub: int,
                  record: Callable[[str, str, str, str], None],
                  log: Callable[[str], None] = lambda s: None) -> None:
    """Run ``counts[surface]`` cases of each surface; ``n_sub`` per CLI surface also run
    through a real subprocess."""
    os.environ.setdefault("XDG_CACHE_HOME", str(tmp / "cache"))
    files = LongtermFiles(tmp)
    for surface in SURFACES:
        count = counts.get(surface, 0)
        if not count:
            continue
        sub_every = max(1, count // n_sub) if n_sub else 0
        tfiles = TrainFiles(tmp) if surface == "train" else None
        vfiles = VariantFiles(tmp) if surface == "variants" else None
        make = {"longterm_cli": lambda: longterm_cli_case(rng, files),
                "train": lambda t=tfiles: train_case(rng, t),
                "variants": lambda v=vfiles: variants_case(rng, v),
                "longterm_api": lambda: api_case(rng, files, tmp),
                "specs": lambda: spec_case(rng, tmp, files)}[surface]
        for k in range(count):
            try:
                case = make()
            except Exception as exc:  # noqa: BLE001 - a defect of this script, counted apart
                record(f"{surface}_generator", "generator", "generator_error",
                       f"{type(exc).__name__}: {exc}"[:300])
                continue
            if case.call is not None:
                record(surface, case.label, *run_api(case))
                if surface == "specs":
                    case.check = None  # the CLI prints a summary, not the spec
                    record("specs_cli", case.label, *run_cli(case))
            else:
                record(surface, case.label, *run_cli(case))
            if sub_every and case.argv is not None and k % sub_every == 0:
                record(f"{surface}_subprocess", case.label, *run_subprocess(case))
            if k % 100 == 99:
                log(f"{surface}: {k + 1}/{count}")
