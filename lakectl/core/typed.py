"""Typed models for the config file and job parameters (msgspec), and one-line validation errors.

msgspec rather than pydantic: it imports and builds these models in a few milliseconds, so a
JVM-free command such as `lakectl monitor tables` is not dominated by model construction.
"""

from __future__ import annotations

import enum
import math
import re
import types
import typing
from typing import Any, TypeVar

import msgspec

T = TypeVar("T")

# Patterns for reading msgspec's messages, compiled on first use (re caches them): `lakectl --help` imports
# this module for the job parameters and never reads a validation error.
_AT = r"(?s)^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$"
_SEGMENT = r"\.([^.\[]+)|\[(\d+|\.\.\.)\]"
_UNKNOWN = r"^Object contains unknown field `([^`]+)`$"
_MISSING = r"^Object missing required field `([^`]+)`$"


class Struct(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every typed config section and job parameter set: keyword construction, unknown keys rejected."""


def parse(data: Any, model: type[T]) -> T:
    """`data` validated into `model`; raises InvalidValue("where: what") on the first problem."""
    try:
        return msgspec.convert(data, model)
    except msgspec.ValidationError as exc:
        where, what = _locate(data, model, exc)
        raise InvalidValue(where, what) from None


def parse_params(data: dict[str, Any], model: type[T]) -> T:
    """A job's parameters validated into `model`; a bad one is a UsageError naming it."""
    from lakectl.core.errors import UsageError

    try:
        _finite(data, "")
        return parse(data, model)
    except InvalidValue as exc:
        raise UsageError(f"invalid parameter {exc.where or 'parameters'}: {exc.what}", "see the command's --help") from None


def _finite(value: Any, where: str) -> None:
    """No job parameter means anything as inf or nan (`--since-hours 1e309` overflowed a timedelta)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidValue(where, f"must be a finite number, not {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            _finite(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _finite(item, f"{where}[{i}]")


def to_dict(value: Any) -> Any:
    """Plain dicts and lists (for JSON, masking and comparisons)."""
    return msgspec.to_builtins(value)


class InvalidValue(ValueError):
    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where or '<root>'}: {what}")
        self.where, self.what = where, what


def _locate(data: Any, model: Any, exc: msgspec.ValidationError) -> tuple[str, str]:
    """The dotted path and message of a validation error, with dict keys named.

    msgspec writes `[...]` for a key inside a mapping; the failing entry is found by validating
    each value of that mapping on its own.
    """
    m = re.match(_AT, str(exc))
    msg, path = (m.group("msg"), m.group("path") or "") if m else (str(exc), "")
    parts: list[str] = []
    value, tp = data, model
    named = ""  # the name of the list item (e.g. an expectation rule) the problem is in
    for name, index in re.findall(_SEGMENT, path):
        tp = _member_for(tp, value)
        if index == "...":
            value_type = _args(tp)[1] if _args(tp) else Any
            for key, item in (value or {}).items():
                try:
                    msgspec.convert(item, value_type)
                except msgspec.ValidationError as inner:
                    where, what = _locate(item, value_type, inner)
                    return ".".join(parts + [str(key)] + ([where] if where else [])), what
            break
        parts.append(name or index)
        if name:
            value = value.get(name) if isinstance(value, dict) else None
            tp = _field_type(tp, name)
        else:
            value = value[int(index)] if isinstance(value, list) else None
            tp = _args(tp)[0] if _args(tp) else Any
            if isinstance(value, dict) and isinstance(value.get("name"), str):
                named = value["name"]
    if named:
        msg += f" (in {named!r})"
    if msg.startswith("Invalid enum value") and (allowed := _allowed(_unwrap(tp))):
        msg += f"; allowed: {', '.join(allowed)}"
    if u := re.match(_UNKNOWN, msg):
        return ".".join(parts + [u.group(1)]), "unknown key"
    if r := re.match(_MISSING, msg):
        return ".".join(parts + [r.group(1)]), "required"
    return ".".join(parts), msg


def _allowed(tp: Any) -> list[str]:
    """The values a Literal or an Enum type allows (as strings); [] for any other type."""
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return [str(m.value) for m in tp]
    return []


def _unwrap(tp: Any) -> Any:
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        return _unwrap(args[0])
    return tp


def _member_for(tp: Any, value: Any) -> Any:
    """The member of a tagged union of models that `value` names with its tag (e.g. `kind`)."""
    tp = _unwrap(tp)
    if typing.get_origin(tp) not in (typing.Union, types.UnionType) or not isinstance(value, dict):
        return tp
    for member in typing.get_args(tp):
        config = getattr(member, "__struct_config__", None)
        if config is not None and config.tag_field and value.get(config.tag_field) == config.tag:
            return member
    return tp


def _args(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(_unwrap(tp))


def _field_type(tp: Any, name: str) -> Any:
    tp = _unwrap(tp)
    try:
        return typing.get_type_hints(tp, include_extras=True).get(name, Any)
    except Exception:  # a union of models, or not a class: the message is still right, the key less exact
        return Any
