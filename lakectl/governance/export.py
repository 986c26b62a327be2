"""`grant export`: the server's current grants written as a policy file, to adopt lakectl on a catalog."""

from __future__ import annotations

from typing import Any

from lakectl.core.errors import UsageError
from lakectl.governance.backend import GrantsBackend, Securable
from lakectl.governance.names import Name, format_name, parse_name
from lakectl.governance.plan import _CHILD_TYPES
from lakectl.governance.privileges import PRIVILEGES, SECTIONS

_SECTION_OF = {t: s for s, (t, _) in SECTIONS.items()}


def parse_securable(text: str) -> Securable:
    """`NAME` (1 part: catalog, 2: schema, 3: table) or `TYPE:NAME` (e.g. volume:c.s.v)."""
    stype, sep, rest = text.partition(":")
    if sep and stype in _SECTION_OF:
        name_text = rest
    else:
        stype, name_text = "", text
    try:
        name = parse_name(name_text)
    except ValueError as e:
        raise UsageError(f"securable {text!r}: {e}", "write catalog, catalog.schema, catalog.schema.table or TYPE:NAME") from None
    if not stype:
        if len(name) > 3:
            raise UsageError(f"securable {text!r} has {len(name)} parts", "quote a part holding dots with backticks: `a.b`")
        stype = ("catalog", "schema", "table")[len(name) - 1]
    want = SECTIONS[_SECTION_OF[stype]][1]
    if len(name) != want:
        raise UsageError(f"securable {text!r}: a {stype} name has {want} part(s)")
    return Securable(stype, name)


def export_policy(backend: GrantsBackend, roots: list[Securable]) -> tuple[dict[str, Any], list[str]]:
    """A policy dict equal to the server's grants on `roots` (and, for catalogs and schemas, all
    under them, which it marks managed), plus warnings for grants a policy cannot express."""
    if not roots:
        roots = [Securable("catalog", n) for n in backend.children("catalog", ())]
    securables: list[Securable] = []
    under: list[Name] = []
    for r in roots:
        if r.type in ("catalog", "schema"):
            under.append(r.name)
            securables.append(r)
            schemas = backend.children("schema", r.name) if r.type == "catalog" else [r.name]
            for schema in schemas:
                if r.type == "catalog":
                    securables.append(Securable("schema", schema))
                for t in _CHILD_TYPES:
                    securables += [Securable(t, n) for n in backend.children(t, schema)]
        else:
            securables.append(r)
    securables = list(dict.fromkeys(securables))
    grants = backend.get_grants(securables)
    warnings: list[str] = []
    principals: set[str] = set()
    sections: dict[str, dict[str, Any]] = {}
    for s in securables:
        g: dict[str, list[str]] = {}
        for principal, privs in sorted(grants[s].items()):
            ok = sorted(p for p in privs if p in PRIVILEGES[s.type])
            for bad in sorted(privs - set(ok)):
                warnings.append(
                    f"{s.type} {format_name(s.name)}: {principal} holds {bad}, which a policy cannot grant on a {s.type}; left out"
                )
            if ok:
                g[principal] = ok
                principals.add(principal)
        in_under = s.name[:1] in under or s.name[:2] in under
        if g or not in_under:
            sections.setdefault(_SECTION_OF[s.type], {})[format_name(s.name)] = {"grants": g}
    doc: dict[str, Any] = {"version": 1, "principals": {"users": sorted(principals)}}
    if under:
        doc["managed"] = {"under": [format_name(n) for n in under]}
    for section in SECTIONS:
        if section in sections:
            doc[section] = sections[section]
    return doc, warnings


def to_yaml(doc: dict[str, Any]) -> str:
    import yaml

    header = "# Written by `lakectl grant export`: the server's grants as a policy (docs/grant.md).\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, default_flow_style=None, width=120)
