"""Checks an OpenLineage run event as a lineage server would, without the network.

openlineage-python does not ship the spec's JSON files: it names them (every event and facet carries its
`schemaURL`). tests/openlineage_spec holds them (Apache-2.0, see its README): each `$id` is registered and
the event and every facet are validated against the schema their own schemaURL names, which must also be
one the installed package emits (so a client upgrade that moves to a newer spec fails here until the copy
is refreshed).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any


def _package_schema_urls() -> set[str]:
    """Every schema URL the installed openlineage-python's facet classes emit."""
    import inspect

    from openlineage.client import event_v2, facet_v2

    urls = {event_v2.RunEvent._get_schema()}
    for mod in vars(facet_v2).values():
        for obj in vars(mod).values() if inspect.ismodule(mod) else ():
            getter = getattr(obj, "_get_schema", None)
            if inspect.isclass(obj) and getter is not None:
                try:
                    urls.add(getter())
                except TypeError:
                    pass
    return urls


def _facets(event: dict[str, Any]) -> list[dict[str, Any]]:
    out = list((event["run"].get("facets") or {}).values()) + list((event["job"].get("facets") or {}).values())
    for d in (event.get("inputs") or []) + (event.get("outputs") or []):
        out += list((d.get("facets") or {}).values())
    return out


SPEC = Path(__file__).parent / "openlineage_spec"


@functools.cache
def _registry() -> Any:
    return _spec_registry(SPEC)


def _spec_registry(folder: Path) -> Any:
    from referencing import Registry, Resource

    resources = []
    for f in sorted(folder.rglob("*.json")):
        doc = json.loads(f.read_text())
        if isinstance(doc, dict) and "$id" in doc:
            resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


def validate(event: dict[str, Any]) -> None:
    """Raise (jsonschema.ValidationError or AssertionError) if `event` is not a valid OpenLineage RunEvent."""
    import jsonschema

    assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None, event["eventTime"]
    known = _package_schema_urls()
    for url in [event["schemaURL"]] + [f["_schemaURL"] for f in _facets(event)]:
        assert url in known, f"{url} is not a schema the installed openlineage-python emits"
    registry = _registry()
    checker = jsonschema.FormatChecker()
    for doc, url in [(event, event["schemaURL"])] + [(f, f["_schemaURL"]) for f in _facets(event)]:
        jsonschema.Draft202012Validator({"$ref": url}, registry=registry, format_checker=checker).validate(doc)
