"""The route registry: each area module registers handlers with `@route(METHOD, r"regex")`.

A handler receives the Request and returns (status, JSON-able body) or raises ApiError. New areas
(Unity Catalog grants, serving endpoints) are new modules under `areas/` listed in AREAS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.databricks_fake.server import FakeWorkspace

AREAS = ("auth", "workspace", "files", "jobs", "sql", "unity_catalog", "serving", "secrets")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, multipart fields, raw bytes, or None
    match: re.Match[str] | None = None
    fake: FakeWorkspace | None = None
    raw_path: str | None = None  # the path as sent, percent-encoding kept (names in path segments)


@dataclass
class Raw:
    """A non-JSON answer (a file download)."""

    data: bytes
    content_type: str = "application/octet-stream"


class ApiError(Exception):
    """An error the way the REST API answers one: {"error_code", "message"} with an HTTP status."""

    def __init__(self, status: int, error_code: str, message: str, *, contract: bool = False) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message
        self.contract = contract  # the client broke the documented contract (recorded as a failure)


def bad_request(message: str) -> ApiError:
    """A request that breaks the documented contract: answered 400 and recorded as a failure."""
    return ApiError(400, "INVALID_PARAMETER_VALUE", message, contract=True)


def not_found(message: str) -> ApiError:
    return ApiError(404, "RESOURCE_DOES_NOT_EXIST", message)


Handler = Callable[[Request], "tuple[int, Any]"]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    area: str = ""


ROUTES: list[Route] = []


def route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, re.compile(pattern + r"\Z"), handler, handler.__module__.rsplit(".", 1)[-1]))
        return handler

    return register


def find(method: str, path: str) -> tuple[Route, re.Match[str]] | None:
    for r in ROUTES:
        if r.method == method:
            m = r.pattern.match(path)
            if m:
                return r, m
    return None


@dataclass
class Shape:
    """The documented fields of a request object: unknown or missing ones are contract failures."""

    required: set[str] = field(default_factory=set)
    optional: set[str] = field(default_factory=set)
    nested: dict[str, Shape] = field(default_factory=dict)  # field -> shape of its object (or of each list item)

    def check(self, value: Any, where: str) -> None:
        if not isinstance(value, dict):
            raise bad_request(f"{where}: expected an object, got {type(value).__name__}")
        unknown = set(value) - self.required - self.optional
        if unknown:
            raise bad_request(f"{where}: unknown field(s) {sorted(unknown)}")
        missing = {k for k in self.required if value.get(k) in (None, "", [])}
        if missing:
            raise bad_request(f"{where}: missing required field(s) {sorted(missing)}")
        for key, shape in self.nested.items():
            if key not in value:
                continue
            items = value[key] if isinstance(value[key], list) else [value[key]]
            for i, item in enumerate(items):
                shape.check(item, f"{where}.{key}" + (f"[{i}]" if isinstance(value[key], list) else ""))
