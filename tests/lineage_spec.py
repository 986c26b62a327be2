"""Checks an OpenLineage run event as a lineage server would, without the network.

openlineage-python does not ship the spec's JSON files: it points to them (every event and facet carries
its `schemaURL`). So the events are checked twice:
- against the spec itself when a local copy is at $OPENLINEAGE_SPEC_DIR (OpenLineage.json and facets/*.json
  from the OpenLineage repository's spec/ folder, Apache-2.0): each `$id` is registered and every event and
  facet is validated against the schema its own schemaURL names;
- always, against CORE below: the required fields and formats of the RunEvent 2-0-2 spec and of the facets
  lakectl sends, written from the spec's text, and every schemaURL must be one the installed package emits.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

_FACET = {
    "type": "object",
    "required": ["_producer", "_schemaURL"],
    "properties": {"_producer": {"type": "string"}, "_schemaURL": {"type": "string"}},
}
_STR = {"type": "string", "minLength": 1}
_DATASET = {
    "type": "object",
    "required": ["namespace", "name"],
    "properties": {"namespace": _STR, "name": _STR, "facets": {"type": "object"}},
}

CORE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["eventTime", "producer", "schemaURL", "run", "job"],
    "properties": {
        "eventType": {"enum": ["START", "RUNNING", "COMPLETE", "ABORT", "FAIL", "OTHER"]},
        "eventTime": {"type": "string"},
        "producer": _STR,
        "schemaURL": {"type": "string", "pattern": r"^https://openlineage\.io/spec/\d+-\d+-\d+/OpenLineage\.json#/\$defs/RunEvent$"},
        "run": {
            "type": "object",
            "required": ["runId"],
            "properties": {
                "runId": {"type": "string", "format": "uuid"},
                "facets": {
                    "type": "object",
                    "additionalProperties": _FACET,
                    "properties": {
                        "parent": {
                            "required": ["run", "job"],
                            "properties": {
                                "run": {
                                    "type": "object",
                                    "required": ["runId"],
                                    "properties": {"runId": {"type": "string", "format": "uuid"}},
                                },
                                "job": {"type": "object", "required": ["namespace", "name"]},
                            },
                        },
                        "errorMessage": {"required": ["message", "programmingLanguage"]},
                        "tags": {
                            "properties": {
                                "tags": {"type": "array", "items": {"type": "object", "required": ["key", "value"]}},
                            },
                        },
                    },
                },
            },
        },
        "job": {
            "type": "object",
            "required": ["namespace", "name"],
            "properties": {
                "namespace": _STR,
                "name": _STR,
                "facets": {
                    "type": "object",
                    "additionalProperties": _FACET,
                    "properties": {"jobType": {"required": ["processingType", "integration"]}},
                },
            },
        },
        "inputs": {"type": "array", "items": _DATASET},
        "outputs": {
            "type": "array",
            "items": {
                **_DATASET,
                "properties": {
                    **_DATASET["properties"],
                    "facets": {
                        "type": "object",
                        "additionalProperties": _FACET,
                        "properties": {
                            "schema": {
                                "properties": {
                                    "fields": {
                                        "type": "array",
                                        "items": {"type": "object", "required": ["name"], "properties": {"name": _STR}},
                                    }
                                }
                            },
                            "symlinks": {
                                "properties": {
                                    "identifiers": {"type": "array", "items": {"type": "object", "required": ["namespace", "name", "type"]}}
                                }
                            },
                            "columnLineage": {
                                "required": ["fields"],
                                "properties": {
                                    "fields": {
                                        "type": "object",
                                        "additionalProperties": {
                                            "type": "object",
                                            "required": ["inputFields"],
                                            "properties": {
                                                "inputFields": {
                                                    "type": "array",
                                                    "items": {
                                                        "type": "object",
                                                        "required": ["namespace", "name", "field"],
                                                        "properties": {
                                                            "transformations": {
                                                                "type": "array",
                                                                "items": {"type": "object", "required": ["type"]},
                                                            }
                                                        },
                                                    },
                                                }
                                            },
                                        },
                                    }
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


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

    jsonschema.Draft202012Validator(CORE, format_checker=jsonschema.FormatChecker()).validate(event)
    uuid.UUID(event["run"]["runId"])
    assert datetime.fromisoformat(event["eventTime"]).tzinfo is not None, event["eventTime"]
    known = _package_schema_urls()
    for url in [event["schemaURL"]] + [f["_schemaURL"] for f in _facets(event)]:
        assert url in known, f"{url} is not a schema the installed openlineage-python emits"
    spec = os.environ.get("OPENLINEAGE_SPEC_DIR")
    if spec:
        registry = _spec_registry(Path(spec))
        for doc, url in [(event, event["schemaURL"])] + [(f, f["_schemaURL"]) for f in _facets(event)]:
            jsonschema.Draft202012Validator({"$ref": url}, registry=registry).validate(doc)
