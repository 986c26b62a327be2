"""The grants policy (configs/grants.yaml): model, loading and validation with one-line errors.

Every problem is a ConfigError "FILE: key.path: what" (exit 2): unknown keys, unknown privileges for
a securable type, duplicate keys, securables or privileges, undeclared principals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakectl.core.errors import ConfigError
from lakectl.governance.names import Name, format_name, parse_name
from lakectl.governance.privileges import PRIVILEGES, SECTIONS

_TOP = {"version", "principals", "managed", *SECTIONS}
_PRINCIPAL_KINDS = ("users", "groups", "service_principals")
_ENTRY = {"owner", "grants"}
_TABLE_ENTRY = _ENTRY | {"tags", "columns", "row_filter"}
_COLUMN = {"tags", "mask"}
_MASK = {"function", "using_columns"}
_ROW_FILTER = {"function", "columns"}


@dataclass
class Entry:
    """Policy for one securable (or a wildcard `catalog.schema.*` of them)."""

    type: str
    name: Name
    key_path: str  # e.g. tables.lakehouse.gold.*, for messages
    grants: dict[str, frozenset[str]] = field(default_factory=dict)  # principal -> privileges
    owner: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    column_tags: dict[str, dict[str, str]] = field(default_factory=dict)
    column_masks: dict[str, str | None] = field(default_factory=dict)  # column -> mask function (None: no mask, drop one)
    mask_using: dict[str, list[str]] = field(default_factory=dict)  # column -> the mask's USING COLUMNS
    row_filter: dict[str, Any] | None = None  # {function, columns}; function None: no row filter (drop one)

    @property
    def wildcard(self) -> bool:
        return self.name[-1] == "*"

    @property
    def display(self) -> str:
        return format_name(self.name)


@dataclass
class Policy:
    file: str
    users: list[str] = field(default_factory=list)
    service_principals: list[str] = field(default_factory=list)
    groups: dict[str, list[str]] = field(default_factory=dict)  # group -> declared members (may be empty)
    managed_under: list[Name] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    @property
    def principals(self) -> set[str]:
        return set(self.users) | set(self.service_principals) | set(self.groups)


def load_policy(path: str | Path) -> Policy:
    file = Path(path)
    if not file.exists():
        raise ConfigError(f"grants policy not found: {file}", "set grant.policy in the config or pass --policy PATH")
    from lakectl.core.cache import cached_config, store_config
    from lakectl.core.textfiles import read_utf8

    text = read_utf8(file, "grants policy")
    raw = cached_config(text, "policy")  # a text that parsed and validated before: no YAML import
    if raw is not None:
        return parse_policy(raw, str(file))
    raw = _read_yaml(file, text)
    policy = parse_policy(raw, str(file))
    if isinstance(raw, dict):
        store_config(text, raw, "policy")
    return policy


class _Err(Exception):
    def __init__(self, where: str, what: str, hint: str | None = None) -> None:
        super().__init__(what)
        self.where, self.what, self.hint = where, what, hint


def parse_policy(raw: Any, source: str = "<policy>") -> Policy:
    try:
        return _parse(raw, source)
    except _Err as e:
        raise ConfigError(f"{source}: {e.where + ': ' if e.where else ''}{e.what}", e.hint or "see docs/grant.md") from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Err(where, f"must be a mapping, not {type(value).__name__}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _Err(where, "must be a list of non-empty strings")
    seen: set[str] = set()
    for i, v in enumerate(value):
        if v in seen:
            raise _Err(f"{where}[{i}]", f"duplicate entry {v!r}")
        seen.add(v)
    return list(value)


def _keys(value: dict[str, Any], allowed: set[str], where: str) -> None:
    for k in value:
        if k not in allowed:
            raise _Err(f"{where}.{k}" if where else str(k), "unknown key", f"allowed here: {', '.join(sorted(allowed))}")


def _str_map(value: Any, where: str) -> dict[str, str]:
    m = _mapping(value, where)
    for k, v in m.items():
        if not isinstance(v, (str, int, float, bool)):
            raise _Err(f"{where}.{k}", "a tag value must be a string")
    return {str(k): str(v) for k, v in m.items()}


def _parse(raw: Any, source: str) -> Policy:
    top = _mapping(raw, "")
    _keys(top, _TOP, "")
    if top.get("version", 1) != 1:
        raise _Err("version", "only version 1 is known")
    policy = Policy(file=source)
    principals = _mapping(top.get("principals"), "principals")
    _keys(principals, set(_PRINCIPAL_KINDS), "principals")
    policy.users = _strings(principals.get("users"), "principals.users")
    policy.service_principals = _strings(principals.get("service_principals"), "principals.service_principals")
    groups = principals.get("groups")
    if isinstance(groups, list):
        policy.groups = {g: [] for g in _strings(groups, "principals.groups")}
    else:
        for g, spec in _mapping(groups, "principals.groups").items():
            spec = _mapping(spec, f"principals.groups.{g}")
            _keys(spec, {"members"}, f"principals.groups.{g}")
            policy.groups[str(g)] = _strings(spec.get("members"), f"principals.groups.{g}.members")
    declared: dict[str, str] = {}
    for kind, names in (("users", policy.users), ("service_principals", policy.service_principals), ("groups", list(policy.groups))):
        for n in names:
            if n in declared:
                raise _Err(f"principals.{kind}", f"{n!r} is also declared under principals.{declared[n]}")
            declared[n] = kind
    for g, members in policy.groups.items():
        for m in members:
            if m not in declared or declared[m] == "groups":
                raise _Err(f"principals.groups.{g}.members", f"{m!r} is not a declared user or service principal")

    managed = _mapping(top.get("managed"), "managed")
    _keys(managed, {"under"}, "managed")
    for i, text in enumerate(_strings(managed.get("under"), "managed.under")):
        name = _name(text, f"managed.under[{i}]")
        if len(name) > 2 or "*" in name:
            raise _Err(f"managed.under[{i}]", f"{text!r}: name a catalog or a catalog.schema")
        policy.managed_under.append(name)

    seen: dict[tuple[str, Name], str] = {}
    for section, (stype, nparts) in SECTIONS.items():
        for key, spec in _mapping(top.get(section), section).items():
            where = f"{section}.{key}"
            name = _name(str(key), where)
            wildcard_ok = stype != "catalog" and name[-1] == "*" and "*" not in name[:-1]
            if len(name) != nparts or ("*" in name and not wildcard_ok):
                want = ".".join(["catalog", "schema", "name"][:nparts]) if nparts < 3 else "catalog.schema.name"
                raise _Err(
                    where,
                    f"a {stype} is named {want}" + ("" if stype == "catalog" else f" (or {'.'.join(want.split('.')[:-1])}.* for all)"),
                )
            if (stype, name) in seen:
                raise _Err(where, f"duplicate {stype}: same securable as {seen[(stype, name)]}")
            seen[(stype, name)] = where
            policy.entries.append(_entry(stype, name, spec, where, declared))
    return policy


def _name(text: str, where: str) -> Name:
    try:
        return parse_name(text)
    except ValueError as e:
        raise _Err(where, str(e), "quote a part holding dots or backticks with backticks: `a.b`.schema") from None


def _entry(stype: str, name: Name, spec: Any, where: str, declared: dict[str, str]) -> Entry:
    spec = _mapping(spec, where)
    _keys(spec, _TABLE_ENTRY if stype == "table" else _ENTRY, where)
    entry = Entry(type=stype, name=name, key_path=where)
    owner = spec.get("owner")
    if owner is not None:
        if not isinstance(owner, str) or not owner:
            raise _Err(f"{where}.owner", "must be a principal name")
        if name[-1] == "*":
            raise _Err(f"{where}.owner", "a wildcard entry cannot set an owner")
        entry.owner = owner
    allowed = PRIVILEGES[stype]
    for principal, privs in _mapping(spec.get("grants"), f"{where}.grants").items():
        pwhere = f"{where}.grants.{principal}"
        if principal not in declared:
            raise _Err(pwhere, f"principal {principal!r} is not declared", "add it under principals.users, .groups or .service_principals")
        values = _strings(privs if isinstance(privs, list) else [privs] if isinstance(privs, str) else privs, pwhere)
        for i, p in enumerate(values):
            if p not in allowed:
                near = " ".join(p.upper().replace(" ", "_").split())
                hint = (
                    f"did you mean {near}? (one spelling: Databricks', with underscores)"
                    if near in allowed
                    else f"privileges on a {stype}: {', '.join(sorted(allowed))}"
                )
                raise _Err(f"{pwhere}[{i}]", f"unknown privilege {p!r} for a {stype}", hint)
        entry.grants[str(principal)] = frozenset(values)
    if stype == "table":
        entry.tags = _str_map(spec.get("tags"), f"{where}.tags")
        for col, cspec in _mapping(spec.get("columns"), f"{where}.columns").items():
            cwhere = f"{where}.columns.{col}"
            cspec = _mapping(cspec, cwhere)
            _keys(cspec, _COLUMN, cwhere)
            if cspec.get("tags"):
                entry.column_tags[str(col)] = _str_map(cspec["tags"], f"{cwhere}.tags")
            if "mask" in cspec:  # `mask: null` declares "no mask": one found is dropped
                mask = cspec["mask"]
                if isinstance(mask, dict):
                    _keys(mask, _MASK, f"{cwhere}.mask")
                    entry.mask_using[str(col)] = _strings(mask.get("using_columns"), f"{cwhere}.mask.using_columns")
                    mask = mask.get("function")
                    if not isinstance(mask, str):
                        raise _Err(f"{cwhere}.mask.function", "required: the SQL function's name (catalog.schema.fn)")
                if mask is not None:
                    _function(mask, f"{cwhere}.mask")
                entry.column_masks[str(col)] = mask
        if "row_filter" in spec:  # `row_filter: null` declares "no row filter": one found is dropped
            if spec["row_filter"] is None:
                entry.row_filter = {"function": None, "columns": []}
            else:
                rf = _mapping(spec["row_filter"], f"{where}.row_filter")
                _keys(rf, _ROW_FILTER, f"{where}.row_filter")
                if not isinstance(rf.get("function"), str):
                    raise _Err(f"{where}.row_filter.function", "required: the SQL function's name")
                _function(rf["function"], f"{where}.row_filter.function")
                entry.row_filter = {"function": rf["function"], "columns": _strings(rf.get("columns"), f"{where}.row_filter.columns")}
    return entry


def _function(text: Any, where: str) -> Name:
    """A SQL function's name: catalog.schema.fn (a mask or a row filter)."""
    if not isinstance(text, str):
        raise _Err(where, "must name a SQL function (catalog.schema.fn)")
    name = _name(text, where)
    if len(name) != 3 or "*" in name:
        raise _Err(where, f"{text!r}: name the SQL function as catalog.schema.fn")
    return name


def _read_yaml(file: Path, text: str) -> Any:
    """The YAML document, refusing a key written twice in one mapping (YAML keeps the last silently)."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            _no_duplicate_keys(root, file, ())
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{file}{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None


def _no_duplicate_keys(node: Any, file: Path, path: tuple[str, ...]) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                raise ConfigError(
                    f"{file}: {'.'.join(path + (key,))}: duplicate key (line {key_node.start_mark.line + 1})",
                    "each securable, principal and key may appear once",
                )
            seen.add(key)
            _no_duplicate_keys(value_node, file, path + (key,))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _no_duplicate_keys(item, file, path[:-1] + (f"{path[-1]}[{i}]",) if path else (f"[{i}]",))
