"""Strict JSON reading: JSON numbers only, no silent coercion, errors that name the field.

Python's :mod:`json` accepts ``NaN`` and ``Infinity``, keeps the last of duplicated keys,
turns ``1e400`` into ``inf``, parses integers of any length and raises ``RecursionError`` on
deeply nested input. :func:`loads` and :func:`read_json_file` close those doors: a
duplicated key is an error, a non-finite or overflowing number is kept as a
:class:`BadNumber` marker that the schema check reports with the field's path, deep nesting
and bytes that are not UTF-8 are reported with the file name.

:func:`check_document` validates a parsed document against a table of :class:`FieldSpec`
(JSON type and nesting of each field): numbers must be JSON numbers (never booleans, strings
or ``null``), arrays must be rectangular, unknown keys are errors naming them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mecopt.errors import MecoptError

#: Deepest nesting of arrays and objects accepted in any document.
MAX_DEPTH = 64


class JSONFormatError(MecoptError, ValueError):
    """A JSON document that cannot be read: malformed, wrong schema, or a wrongly typed field."""


@dataclasses.dataclass(frozen=True)
class BadNumber:
    """A JSON number (or ``NaN`` / ``Infinity`` literal) that is not a finite float."""

    text: str

    def __str__(self) -> str:
        return self.text if len(self.text) <= 40 else f"{self.text[:20]}...({len(self.text)} chars)"


def _parse_float(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(text)


def _parse_int(text: str) -> int | BadNumber:
    if len(text.lstrip("-")) > 308:  # beyond any float; also avoids Python's digit limit
        return BadNumber(text)
    value = int(text)
    try:
        float(value)
    except OverflowError:
        return BadNumber(text)
    return value


def _pairs(where: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise JSONFormatError(f"{where}: key {key!r} appears twice in one object")
            out[key] = value
        return out

    return hook


def _depth(value: Any, where: str) -> None:
    stack = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise JSONFormatError(f"{where}: {path or 'document'} is nested deeper than "
                                  f"{MAX_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k))
                         for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(item))


def loads(text: str, where: str = "JSON") -> Any:
    """Parse JSON text strictly.

    Parameters
    ----------
    text
        The JSON text.
    where
        What the text is (a file name), used in error messages.

    Returns
    -------
    Any
        The document; non-finite and overflowing numbers are :class:`BadNumber` markers.

    Raises
    ------
    JSONFormatError
        If the text is not JSON, repeats a key in an object or nests too deeply.
    """
    try:
        data = json.loads(text, object_pairs_hook=_pairs(where), parse_float=_parse_float,
                          parse_int=_parse_int, parse_constant=BadNumber)
    except json.JSONDecodeError as exc:
        raise JSONFormatError(
            f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    except RecursionError:
        raise JSONFormatError(f"{where}: nested deeper than {MAX_DEPTH} levels") from None
    _depth(data, where)
    return data


def read_json_file(path: str | Path) -> Any:
    """Read a UTF-8 JSON file strictly (see :func:`loads`); a leading BOM is allowed.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    JSONFormatError
        If it is not UTF-8 text or not a valid JSON document.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"file not found: {path}")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JSONFormatError(
            f"{path}: not UTF-8 text (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})"
        ) from None
    return loads(text, str(path))


# ---------------------------------------------------------------------------- schema checks
@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """The JSON shape of one field.

    Attributes
    ----------
    kind
        ``"number"``, ``"string"``, ``"object"`` (free-form, e.g. provenance) or
        ``"array"`` (nested lists of numbers).
    ndim
        Nesting depth of an ``"array"`` (1 for a vector, 2 for a matrix).
    nullable
        ``null`` is allowed (and means "not set").
    integer
        Numbers must be whole (``2`` or ``2.0``).
    required
        The field must be present.
    """

    kind: str
    ndim: int = 0
    nullable: bool = False
    integer: bool = False
    required: bool = True


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, BadNumber):
        return "a non-finite number"
    return "a number"


def _shown(value: Any) -> str:
    if isinstance(value, BadNumber):
        return str(value)
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_number(path: str, value: Any, *, integer: bool = False) -> float | int:
    """Return ``value`` if it is a finite JSON number (not a boolean); else raise, naming it."""
    if isinstance(value, BadNumber):
        raise JSONFormatError(f"{path} = {value}: not a finite 64-bit float (NaN, Infinity and "
                              "numbers beyond 1.8e308 are not allowed)")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise JSONFormatError(f"{path} = {_shown(value)}: must be a JSON number, "
                              f"got {_type_name(value)}")
    if integer and float(value) != math.floor(float(value)):
        raise JSONFormatError(f"{path} = {_shown(value)}: must be a whole number")
    return value


def _shape_of(path: str, value: Any, ndim: int) -> tuple[int, ...]:
    """Check nested lists of depth ``ndim`` are rectangular; return the shape."""
    if not isinstance(value, list):
        expected = "an array" if ndim == 1 else f"a {ndim}-D array (array of arrays)"
        raise JSONFormatError(f"{path} = {_shown(value)}: must be {expected}, "
                              f"got {_type_name(value)}")
    if ndim == 1:
        return (len(value),)
    shapes = [_shape_of(f"{path}[{i}]", row, ndim - 1) for i, row in enumerate(value)]
    for i, s in enumerate(shapes):
        if s != shapes[0]:
            raise JSONFormatError(f"{path}: row {i} has shape {s}, row 0 has {shapes[0]} "
                                  "(rows must be of equal length)")
    return (len(value), *(shapes[0] if shapes else (0,) * (ndim - 1)))


def check_array(path: str, value: Any, ndim: int, *, integer: bool = False) -> np.ndarray:
    """Validate nested lists of JSON numbers of depth ``ndim``; return a float array."""
    shape = _shape_of(path, value, ndim)
    flat: list[Any] = value
    for _ in range(ndim - 1):
        flat = [x for row in flat for x in row]
    for k, x in enumerate(flat):
        if isinstance(x, bool) or not isinstance(x, int | float) or (
                integer and float(x) != math.floor(float(x))):
            idx = np.unravel_index(k, shape)
            check_number(f"{path}[{', '.join(str(int(i)) for i in idx)}]", x, integer=integer)
    return np.array(flat, dtype=float).reshape(shape)


def check_free_form(path: str, value: Any) -> None:
    """Reject non-finite numbers anywhere inside a free-form value."""
    stack = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, BadNumber):
            check_number(where, item)
        elif isinstance(item, dict):
            stack.extend((f"{where}.{k}", v) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))


def check_fields(path: str, data: Any, specs: Mapping[str, FieldSpec]) -> dict[str, Any]:
    """Validate an object's fields against ``specs``; return them converted.

    Arrays become float numpy arrays, numbers stay numbers, ``null`` stays ``None``.

    Raises
    ------
    JSONFormatError
        If ``data`` is not an object, has an unknown or missing field, or a field has the
        wrong JSON type; the message names the field (``path.field[index]``) and the value.
    """
    if not isinstance(data, dict):
        raise JSONFormatError(f"{path} must be an object, got {_type_name(data)}")
    unknown = sorted(set(data) - set(specs))
    if unknown:
        raise JSONFormatError(f"{path}: unknown field(s) {', '.join(map(repr, unknown))}; "
                              f"valid fields: {', '.join(specs)}")
    missing = [k for k, s in specs.items() if s.required and k not in data]
    if missing:
        raise JSONFormatError(f"{path}: missing field(s) {', '.join(map(repr, missing))}")
    out: dict[str, Any] = {}
    for key, value in data.items():
        spec = specs[key]
        where = f"{path}.{key}"
        if value is None:
            if not spec.nullable:
                expected = {"number": "a JSON number", "string": "a string",
                            "object": "an object"}.get(spec.kind, "an array")
                raise JSONFormatError(f"{where} = null: must be {expected}")
            out[key] = None
        elif spec.kind == "number":
            out[key] = check_number(where, value, integer=spec.integer)
        elif spec.kind == "string":
            if not isinstance(value, str):
                raise JSONFormatError(f"{where} = {_shown(value)}: must be a string, "
                                      f"got {_type_name(value)}")
            out[key] = value
        elif spec.kind == "object":
            if not isinstance(value, dict):
                raise JSONFormatError(f"{where} = {_shown(value)}: must be an object, "
                                      f"got {_type_name(value)}")
            check_free_form(where, value)
            out[key] = value
        else:
            out[key] = check_array(where, value, spec.ndim, integer=spec.integer)
    return out
