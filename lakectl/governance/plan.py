"""The plan: the policy's desired grants against a backend's, as per-principal changes.

Safety rails live here: an owner's and a metastore admin's grants are never revoked (kept and
reported instead); a revoke that takes away the caller's own power to manage is flagged; what the
server cannot hold is listed as unsupported and left out of the changes, never silently dropped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from lakectl.governance.backend import GrantsBackend, PrincipalChange, Securable
from lakectl.governance.names import Name, format_name
from lakectl.governance.policy import Entry, Policy
from lakectl.governance.privileges import MANAGING

_CHILD_TYPES = ("table", "volume", "function", "registered_model")
Grants = dict[str, frozenset[str]]


@dataclass
class Plan:
    securables: list[Securable] = field(default_factory=list)  # every managed securable, in order
    actual: dict[Securable, Grants] = field(default_factory=dict)
    desired: dict[Securable, Grants] = field(default_factory=dict)
    changes: list[PrincipalChange] = field(default_factory=list)
    unchanged: int = 0  # (securable, principal, privilege) grants already as the policy says
    kept: list[dict[str, Any]] = field(default_factory=list)  # revokes refused: owner or admin
    self_lockout: list[dict[str, Any]] = field(default_factory=list)  # revokes of the caller's own MANAGE
    orphaned: list[str] = field(default_factory=list)  # managed catalogs left with no owner and no MANAGE holder
    unsupported: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # tags to set/unset, where the policy declares them and the server can hold them:
    # {securable_type, securable, column (None: the securable itself), set: {key: value}, unset: [key]}
    tag_changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def tags_to_set(self) -> int:
        return sum(len(t["set"]) for t in self.tag_changes)

    @property
    def tags_to_unset(self) -> int:
        return sum(len(t["unset"]) for t in self.tag_changes)

    @property
    def to_add(self) -> int:
        return sum(len(c.add) for c in self.changes)

    @property
    def to_revoke(self) -> int:
        return sum(len(c.remove) for c in self.changes)

    def flat(self) -> list[dict[str, Any]]:
        return flatten(self.changes)

    def fingerprints(self) -> dict[str, str]:
        return {key(s): fingerprint(self.actual.get(s, {})) for s in self.securables}


def key(s: Securable) -> str:
    return f"{s.type}:{format_name(s.name)}"


def fingerprint(grants: Grants) -> str:
    text = json.dumps({p: sorted(v) for p, v in sorted(grants.items())}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flatten(changes: list[PrincipalChange]) -> list[dict[str, Any]]:
    out = []
    for c in changes:
        for action, privs in (("revoke", c.remove), ("add", c.add)):
            for p in privs:
                out.append({"action": action, "securable_type": c.securable.type, "securable": format_name(c.securable.name),
                            "principal": c.principal, "privilege": p})
    return out


def managed_securables(policy: Policy, backend: GrantsBackend) -> tuple[list[Securable], dict[Securable, list[Entry]]]:
    """Every securable lakectl owns: the listed ones, wildcard expansions, and all under `managed.under`."""
    order: list[Securable] = []
    entries: dict[Securable, list[Entry]] = {}

    def add(s: Securable, entry: Entry | None = None) -> None:
        if s not in entries:
            entries[s] = []
            order.append(s)
        if entry is not None:
            entries[s].append(entry)

    for root in policy.managed_under:
        schemas = [root] if len(root) == 2 else backend.children("schema", root)
        if len(root) == 1:
            add(Securable("catalog", root))
        for schema in schemas:
            add(Securable("schema", schema))
            for t in _CHILD_TYPES:
                for name in backend.children(t, schema):
                    add(Securable(t, name))
    for e in policy.entries:
        if e.wildcard:
            for name in backend.children(e.type, e.name[:-1]):
                add(Securable(e.type, name), e)
        else:
            add(Securable(e.type, e.name), e)
    return order, entries


def desired_grants(policy: Policy, entries: list[Entry], backend: GrantsBackend, plan: Plan) -> Grants:
    """What the policy says one securable's grants are, reduced to what the backend can hold."""
    caps = backend.capabilities
    out: dict[str, set[str]] = {}
    for e in entries:
        for principal, privs in e.grants.items():
            unknown = sorted(privs - caps.privileges)
            if unknown:
                _once(plan.unsupported, f"{e.key_path}.grants.{principal}: {', '.join(unknown)} — this server has no such privilege; not applied")
            privs = privs & caps.privileges
            targets = [principal]
            if principal in policy.groups and not caps.groups:
                members = policy.groups[principal]
                if members:
                    _once(plan.notes, f"group {principal!r}: this server has no groups; its grants go to its declared members ({', '.join(members)})")
                    targets = members
                else:
                    _once(plan.unsupported, f"{e.key_path}.grants.{principal}: this server has no groups (declare members: to grant them one by one); not applied")
                    continue
            for t in targets:
                out.setdefault(t, set()).update(privs)
        if not caps.tags and (e.tags or e.column_tags):
            what = ", ".join([f"{k}={v}" for k, v in e.tags.items()] + [f"{c}.{k}={v}" for c, tags in e.column_tags.items() for k, v in tags.items()])
            _once(plan.unsupported, f"{e.key_path}: tags ({what}) — this server cannot hold tags; not set")
        if not caps.masks and e.column_masks:
            why = "Databricks only" if backend.name != "databricks" else "not applied by lakectl yet"
            _once(plan.unsupported, f"{e.key_path}: column masks ({', '.join(f'{c}: {f}' for c, f in e.column_masks.items())}) — {why}; not set")
        if not caps.row_filters and e.row_filter:
            why = "Databricks only" if backend.name != "databricks" else "not applied by lakectl yet"
            _once(plan.unsupported, f"{e.key_path}: row filter {e.row_filter['function']} — {why}; not set")
    return {p: frozenset(v) for p, v in out.items() if v}


def build_plan(policy: Policy, backend: GrantsBackend) -> Plan:
    plan = Plan()
    plan.securables, entries = managed_securables(policy, backend)
    for s in plan.securables:
        plan.desired[s] = desired_grants(policy, entries[s], backend, plan)
    plan.actual = backend.get_grants(plan.securables)

    draft: list[PrincipalChange] = []
    for s in plan.securables:
        want, have = plan.desired[s], plan.actual[s]
        for principal in sorted(set(want) | set(have)):
            w, h = want.get(principal, frozenset()), have.get(principal, frozenset())
            plan.unchanged += len(w & h)
            if w != h:
                draft.append(PrincipalChange(s, principal, tuple(sorted(w - h)), tuple(sorted(h - w))))

    revoking = sorted({c.securable for c in draft if c.remove}, key=key)
    catalogs = [c.securable for c in draft if c.remove and c.securable.type == "catalog" and MANAGING & set(c.remove)]
    owned = _owners(backend, revoking + catalogs + _owner_checks(policy, entries, plan.securables))
    for c in draft:
        if c.remove and (c.principal in backend.admins or c.principal == owned.get(c.securable)):
            role = "metastore admin" if c.principal in backend.admins else "owner"
            plan.kept.append({"securable": key(c.securable), "principal": c.principal, "privileges": list(c.remove), "why": role})
            c.remove = ()
        elif c.remove and c.principal == backend.caller and MANAGING & set(c.remove):
            plan.self_lockout.append({"securable": key(c.securable), "principal": c.principal, "privileges": sorted(MANAGING & set(c.remove))})
        if c.add or c.remove:
            plan.changes.append(c)

    for cat in dict.fromkeys(catalogs):
        after = {p: set(v) for p, v in plan.actual[cat].items()}
        for c in plan.changes:
            if c.securable == cat:
                after[c.principal] = (after.get(c.principal, set()) | set(c.add)) - set(c.remove)
        if not owned.get(cat) and not any(v & MANAGING for v in after.values()):
            plan.orphaned.append(key(cat))

    if backend.capabilities.tags:
        plan.tag_changes = plan_tags(plan.securables, entries, backend)

    for s in plan.securables:
        for e in entries[s]:
            if e.owner and not backend.capabilities.owner_transfer and owned.get(s) != e.owner:
                _once(plan.unsupported, f"{e.key_path}.owner: {e.owner!r} (now {owned.get(s)!r}) — this server cannot transfer ownership; not changed")
    return plan


def plan_tags(securables: list[Securable], entries: dict[Securable, list[Entry]], backend: GrantsBackend) -> list[dict[str, Any]]:
    """Tag changes for the securables whose policy entries declare tags. A declared tag set (a table's
    `tags:`, one column's `tags:`) is managed whole: keys the server holds beyond it are unset; tags on
    anything the policy does not declare tags for are left alone."""
    want: dict[Securable, tuple[dict[str, str] | None, dict[str, dict[str, str]]]] = {}
    for s in securables:
        own: dict[str, str] | None = None
        cols: dict[str, dict[str, str]] = {}
        for e in entries[s]:
            if e.tags:
                own = {**(own or {}), **e.tags}
            for c, t in e.column_tags.items():
                cols[c] = {**cols.get(c, {}), **t}
        if own is not None or cols:
            want[s] = (own, cols)
    if not want:
        return []
    have = backend.get_tags(list(want))  # type: ignore[attr-defined]
    out: list[dict[str, Any]] = []
    for s, (own, cols) in want.items():
        held_own, held_cols = have.get(s, ({}, {}))
        targets = ([(None, own, held_own)] if own is not None else []) + [(c, t, held_cols.get(c, {})) for c, t in sorted(cols.items())]
        for column, w, h in targets:
            to_set = {k: v for k, v in sorted(w.items()) if h.get(k) != v}
            to_unset = sorted(set(h) - set(w))
            if to_set or to_unset:
                out.append({"securable_type": s.type, "securable": format_name(s.name), "name": list(s.name),
                            "column": column, "set": to_set, "unset": to_unset})
    return out


def _owner_checks(policy: Policy, entries: dict[Securable, list[Entry]], securables: list[Securable]) -> list[Securable]:
    return [s for s in securables if any(e.owner for e in entries[s])]


def _owners(backend: GrantsBackend, securables: list[Securable]) -> dict[Securable, str | None]:
    unique = list(dict.fromkeys(securables))
    if not unique:
        return {}
    many = getattr(backend, "owners", None)
    return many(unique) if many else {s: backend.owner(s) for s in unique}


def _once(items: list[str], text: str) -> None:
    if text not in items:
        items.append(text)


def parents(name: Name, type: str) -> list[Securable]:
    """The securables a grant on (type, name) inherits from: its schema, then its catalog."""
    if type == "catalog":
        return []
    if type == "schema":
        return [Securable("catalog", name[:1])]
    return [Securable("schema", name[:2]), Securable("catalog", name[:1])]
