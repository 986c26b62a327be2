"""Register lakectl's Delta tables in a Unity Catalog server as EXTERNAL tables at their storage path,
so `grant` can name them (`lakectl grant register`, with `storage.catalog` set).

The schema is read from the Delta log with delta-rs (no JVM); columns are sent with the type name,
type text and type JSON the server stores. An existing table is left alone when its location
matches, and reported as a conflict when it points elsewhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lakectl.config import Settings
from lakectl.core.errors import LakectlError, UsageError

_NAMES = {
    "string": ("STRING", "string"),
    "long": ("LONG", "bigint"),
    "integer": ("INT", "int"),
    "short": ("SHORT", "smallint"),
    "byte": ("BYTE", "tinyint"),
    "float": ("FLOAT", "float"),
    "double": ("DOUBLE", "double"),
    "boolean": ("BOOLEAN", "boolean"),
    "binary": ("BINARY", "binary"),
    "date": ("DATE", "date"),
    "timestamp": ("TIMESTAMP", "timestamp"),
    "timestamp_ntz": ("TIMESTAMP_NTZ", "timestamp_ntz"),
}


def type_text(t: Any) -> str:
    """Spark's simple string of a Delta type (the JSON form of the Delta log)."""
    if isinstance(t, str):
        return _NAMES[t][1] if t in _NAMES else t
    kind = t["type"]
    if kind == "struct":
        return "struct<" + ",".join(f"{f['name']}:{type_text(f['type'])}" for f in t["fields"]) + ">"
    if kind == "array":
        return f"array<{type_text(t['elementType'])}>"
    if kind == "map":
        return f"map<{type_text(t['keyType'])},{type_text(t['valueType'])}>"
    raise ValueError(f"unknown Delta type {t!r}")


def type_name(t: Any) -> str:
    if isinstance(t, str):
        if t.startswith("decimal"):
            return "DECIMAL"
        return _NAMES[t][0] if t in _NAMES else t.upper()
    return t["type"].upper()


def columns_of(schema_json: str) -> list[dict[str, Any]]:
    """The server's column objects for a Delta schema (as DeltaTable.schema().to_json() gives it)."""
    cols = []
    for i, f in enumerate(json.loads(schema_json)["fields"]):
        col: dict[str, Any] = {
            "name": f["name"],
            "type_name": type_name(f["type"]),
            "type_text": type_text(f["type"]),
            "type_json": json.dumps(f),
            "position": i,
            "nullable": bool(f.get("nullable", True)),
        }
        if isinstance(f["type"], str) and f["type"].startswith("decimal("):
            p, s = f["type"][8:-1].split(",")
            col.update(type_precision=int(p), type_scale=int(s))
        cols.append(col)
    return cols


def register_tables(settings: Settings, backend: Any, *, keys: list[str], dry_run: bool) -> list[dict[str, Any]]:
    catalog = settings.storage.catalog
    if not catalog:
        raise UsageError("storage.catalog is not set", "set storage.catalog to the catalog the tables belong to")
    from lakectl.lake.deltars import open_table

    out: list[dict[str, Any]] = []
    ensured: set[tuple[str, ...]] = set()
    for key in keys or settings.table_keys():
        handle = settings.table(key)
        location = handle.path if "://" in handle.path else Path(handle.path).as_uri()
        row = {"table": f"{catalog}.{key}", "location": location}
        dt = open_table(handle.path)
        if dt is None:
            out.append({**row, "action": "missing", "detail": "no Delta table at its path yet"})
            continue
        existing = backend.get_table((catalog, handle.schema_name, handle.name))
        if existing is not None:
            same = existing.get("storage_location", "").rstrip("/") == location.rstrip("/")
            out.append(
                {
                    **row,
                    "action": "exists" if same else "conflict",
                    "detail": "" if same else f"registered at {existing.get('storage_location')}",
                }
            )
            continue
        if dry_run:
            out.append({**row, "action": "would_create", "detail": ""})
            continue
        try:
            if (catalog,) not in ensured:
                backend.ensure_catalog(catalog)
                ensured.add((catalog,))
            if (catalog, handle.schema_name) not in ensured:
                backend.ensure_schema(catalog, handle.schema_name)
                ensured.add((catalog, handle.schema_name))
            backend.create_external_table((catalog, handle.schema_name, handle.name), location, columns_of(dt.schema().to_json()))
            out.append({**row, "action": "created", "detail": ""})
        except LakectlError as e:
            out.append({**row, "action": "failed", "detail": e.message})
    return out
