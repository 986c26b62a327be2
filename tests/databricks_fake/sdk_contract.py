"""Every JSON request body checked against the installed databricks-sdk: each key must be a parameter of the
SDK method that sends that request, and each value must survive a round trip through the parameter's own
type (`T.from_dict(v).as_dict() == v` for the SDK's dataclasses, a known value for its enums). A misspelt or
unknown field, nested at any depth, is dropped by `from_dict` and so fails the comparison. A newer SDK that
renames or drops a field fails here, not on a real workspace.
"""

from __future__ import annotations

import enum
import re
import typing
from dataclasses import is_dataclass
from functools import cache
from typing import Any

# (method, path regex) -> (service module, API class, method, parameters taken from the path, not the body)
METHODS: list[tuple[str, str, str, str, str, tuple[str, ...]]] = [
    ("POST", r"/api/2\.2/jobs/runs/submit", "jobs", "JobsAPI", "submit", ()),
    ("POST", r"/api/2\.2/jobs/runs/cancel", "jobs", "JobsAPI", "cancel_run", ()),
    ("POST", r"/api/2\.2/jobs/create", "jobs", "JobsAPI", "create", ()),
    ("POST", r"/api/2\.2/jobs/reset", "jobs", "JobsAPI", "reset", ()),
    ("POST", r"/api/2\.2/jobs/delete", "jobs", "JobsAPI", "delete", ()),
    ("POST", r"/api/2\.0/sql/statements/?", "sql", "StatementExecutionAPI", "execute_statement", ()),
    ("POST", r"/serving-endpoints/[^/]+/invocations", "serving", "ServingEndpointsAPI", "query", ("name",)),
    ("POST", r"/api/2\.0/fs/create-download-url", "files", "FilesAPI", "create_download_url", ()),
    ("PATCH", r"/api/2\.1/unity-catalog/permissions/.+", "catalog", "GrantsAPI", "update", ("securable_type", "full_name")),
    ("PATCH", r"/api/2\.1/unity-catalog/catalogs/.+", "catalog", "CatalogsAPI", "update", ("name",)),
    ("PATCH", r"/api/2\.1/unity-catalog/schemas/.+", "catalog", "SchemasAPI", "update", ("full_name",)),
    ("PATCH", r"/api/2\.1/unity-catalog/tables/.+", "catalog", "TablesAPI", "update", ("full_name",)),
    ("POST", r"/api/2\.0/workspace/mkdirs", "workspace", "WorkspaceAPI", "mkdirs", ()),
    ("POST", r"/api/2\.0/workspace/import", "workspace", "WorkspaceAPI", "import_", ()),
    ("POST", r"/api/2\.0/workspace/delete", "workspace", "WorkspaceAPI", "delete", ()),
]
_COMPILED = [(m, re.compile(p + r"\Z"), mod, cls, fn, path) for m, p, mod, cls, fn, path in METHODS]


def check(method: str, path: str, body: Any) -> str | None:
    """None when `body` is what the SDK's own method would send, else why not."""
    if body is None or isinstance(body, (bytes, bytearray)):
        return None  # no body, or a file's bytes (Files API PUT)
    for m, pattern, module, cls, fn, path_params in _COMPILED:
        if m == method and pattern.match(path):
            return _check_body(body, _hints(module, cls, fn), set(path_params), f"{cls}.{fn}")
    return f"{method} {path}: no databricks-sdk method is known to send this body (add it to sdk_contract.METHODS)"


@cache
def _hints(module: str, cls: str, fn: str) -> dict[str, Any]:
    import importlib

    mod = importlib.import_module(f"databricks.sdk.service.{module}")
    func = getattr(getattr(mod, cls), fn)
    hints = typing.get_type_hints(func, vars(mod))
    hints.pop("return", None)
    return hints


def _check_body(body: Any, hints: dict[str, Any], path_params: set[str], where: str) -> str | None:
    if not isinstance(body, dict):
        return f"{where}: the body is not an object"
    if where == "WorkspaceAPI.import_":
        body = {k: v for k, v in body.items() if not isinstance(v, (bytes, bytearray))}  # the multipart file part
    for key, value in body.items():
        if key not in hints or key in path_params:
            return f"{where}: {key!r} is not a parameter of the installed SDK's method"
        problem = _round_trip(value, hints[key], f"{where}.{key}")
        if problem:
            return problem
    return None


def _round_trip(value: Any, tp: Any, where: str) -> str | None:
    origin = typing.get_origin(tp)
    if origin is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _round_trip(value, args[0], where) if len(args) == 1 else None
    if origin in (list, typing.List):  # noqa: UP006 - the SDK annotates with typing.List
        if not isinstance(value, list):
            return f"{where}: expected a list"
        (item,) = typing.get_args(tp)
        for i, v in enumerate(value):
            problem = _round_trip(v, item, f"{where}[{i}]")
            if problem:
                return problem
        return None
    if origin in (dict, typing.Dict):  # noqa: UP006
        return None if isinstance(value, dict) else f"{where}: expected an object"
    if isinstance(tp, type) and is_dataclass(tp):
        if not isinstance(value, dict):
            return f"{where}: expected an object"
        again = tp.from_dict(value).as_dict()
        if again != value:
            return f"{where}: does not round-trip through {tp.__name__} (unknown, misspelt or mistyped field): sent {_diff(value, again)}"
        return None
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        known = {e.value for e in tp}
        return None if value in known else f"{where}: {value!r} is not a {tp.__name__}"
    return None


def _diff(sent: dict[str, Any], again: dict[str, Any]) -> str:
    lost = sorted(set(sent) - set(again))
    changed = sorted(k for k in set(sent) & set(again) if sent[k] != again[k])
    return f"fields lost {lost}, changed {changed}"
