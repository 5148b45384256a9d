"""Write the exact model of an instance as an LP or MPS file for any MILP solver.

The model is the count-indexed MILP of :mod:`mecopt.formulations.count_indexed` (its
:class:`~mecopt.formulations.milp.MatrixMILP`): binary columns ``x_i_j_n`` (user i on ES j,
which holds n users) and ``y_j_n`` (ES j holds n users); the objective is the total delay in
milliseconds (divide by N for the mean delay). It is exact for interference ``"none"`` and a
lower bound for ``"other-cells"``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from mecopt.errors import MecoptError
from mecopt.instance import Instance

#: File formats :func:`export_model` writes, by suffix.
MODEL_FORMATS = (".lp", ".mps")


def _names(model) -> list[str]:  # noqa: ANN001 - CountIndexedModel
    xs = [f"x_{i}_{j}_{n}" for i, j, n in zip(model.x_user.tolist(), model.x_es.tolist(),
                                              model.x_n.tolist(), strict=True)]
    ys = [f"y_{j}_{n}" for j, n in zip(model.y_es.tolist(), model.y_n.tolist(), strict=True)]
    return xs + ys


def _num(x: float) -> str:
    return repr(float(x))


def _write_lp(milp, names: list[str], comment: str) -> str:  # noqa: ANN001
    out = [f"\\ {line}" for line in comment.splitlines()]
    out.append("Minimize")
    terms = [f"{'+' if c >= 0 else '-'} {_num(abs(c))} {names[k]}"
             for k, c in enumerate(milp.c) if c != 0]
    out.append(" obj: " + " ".join(terms or ["0 " + names[0]]) if names else " obj: 0")
    if milp.constant:
        out[-1] += f" {'+' if milp.constant >= 0 else '-'} {_num(abs(milp.constant))}"
    out.append("Subject To")
    A = milp.A.tocsr()
    for r in range(A.shape[0]):
        lo, hi = milp.row_lo[r], milp.row_hi[r]
        idx = A.indices[A.indptr[r]:A.indptr[r + 1]]
        val = A.data[A.indptr[r]:A.indptr[r + 1]]
        lhs = " ".join(f"{'+' if v >= 0 else '-'} {_num(abs(v))} {names[k]}"
                       for k, v in zip(idx, val, strict=True)) or "0 " + names[0]
        if math.isfinite(lo) and math.isfinite(hi) and lo == hi:
            out.append(f" r{r}: {lhs} = {_num(lo)}")
            continue
        if math.isfinite(lo):
            out.append(f" r{r}_lo: {lhs} >= {_num(lo)}")
        if math.isfinite(hi):
            out.append(f" r{r}_hi: {lhs} <= {_num(hi)}")
    out.append("Binary")
    out.extend(f" {n}" for n in names)
    out.append("End")
    return "\n".join(out) + "\n"


def _write_mps(milp, names: list[str], comment: str) -> str:  # noqa: ANN001
    out = [f"* {line}" for line in comment.splitlines()]
    out += ["NAME          MECOPT", "ROWS", " N  OBJ"]
    rows: list[tuple[str, str, float, float]] = []  # name, type, rhs, range
    for r in range(milp.n_rows):
        lo, hi = float(milp.row_lo[r]), float(milp.row_hi[r])
        if math.isfinite(lo) and math.isfinite(hi):
            rows.append((f"R{r}", "E" if lo == hi else "G", lo, hi - lo))
        elif math.isfinite(lo):
            rows.append((f"R{r}", "G", lo, 0.0))
        elif math.isfinite(hi):
            rows.append((f"R{r}", "L", hi, 0.0))
        else:
            rows.append((f"R{r}", "N", 0.0, 0.0))
    out += [f" {t}  {name}" for name, t, _, _ in rows]
    out += ["COLUMNS", "    MARKER                 'MARKER'                 'INTORG'"]
    A = milp.A.tocsc()
    for k, name in enumerate(names):
        if milp.c[k] != 0:
            out.append(f"    {name}  OBJ  {_num(milp.c[k])}")
        for r, v in zip(A.indices[A.indptr[k]:A.indptr[k + 1]],
                        A.data[A.indptr[k]:A.indptr[k + 1]], strict=True):
            out.append(f"    {name}  R{r}  {_num(v)}")
    out += ["    MARKER                 'MARKER'                 'INTEND'", "RHS"]
    if milp.constant:
        out.append(f"    RHS  OBJ  {_num(-milp.constant)}")
    out += [f"    RHS  {name}  {_num(rhs)}" for name, t, rhs, _ in rows if rhs and t != "N"]
    ranges = [(name, rng) for name, t, _, rng in rows if t == "G" and rng > 0]
    if ranges:
        out.append("RANGES")
        out += [f"    RNG  {name}  {_num(rng)}" for name, rng in ranges]
    out.append("BOUNDS")
    out += [f" BV BND  {name}" for name in names]
    out.append("ENDATA")
    return "\n".join(out) + "\n"


def export_model(inst: Instance, path: str | Path) -> Path:
    """Write the count-indexed MILP of ``inst`` to ``path`` (``.lp`` or ``.mps``).

    Parameters
    ----------
    inst
        The instance.
    path
        Output file; the suffix picks the format.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ValueError
        If the suffix is not ``.lp`` or ``.mps``.
    MecoptError
        If the model's reductions already prove the instance infeasible.
    """
    from mecopt.formulations.count_indexed import build

    path = Path(path)
    if path.suffix.lower() not in MODEL_FORMATS:
        raise ValueError(f"{path}: unknown model format {path.suffix!r}; "
                         f"use one of {', '.join(MODEL_FORMATS)}")
    model = build(inst)
    if model.infeasible_reason:
        raise MecoptError(f"the instance is infeasible, no model written: "
                          f"{model.infeasible_reason}")
    names = _names(model)
    exact = "exact" if inst.interference == "none" else \
        "a lower bound (interference is not in the model)"
    comment = (f"mecopt count-indexed MILP of {inst!r}\n"
               f"objective: total delay in ms over N = {inst.n_users} users (mean = obj / N); "
               f"{exact}\n"
               "x_i_j_n = 1: user i on ES j, which holds n users; y_j_n = 1: ES j holds n users")
    text = (_write_lp if path.suffix.lower() == ".lp" else _write_mps)(model.milp, names,
                                                                         comment)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def decode_solution(inst: Instance, values: dict[str, float]) -> np.ndarray:
    """Assignment (-1 local, j >= 0 ES) from a solver's column values keyed by name."""
    a = np.full(inst.n_users, -1, dtype=np.int64)
    for name, v in values.items():
        if name.startswith("x_") and v > 0.5:
            i, j, _n = (int(t) for t in name[2:].split("_"))
            a[i] = j
    return a
