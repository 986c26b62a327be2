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

from lakectl.core.errors import UsageError
from lakectl.governance.backend import GrantsBackend, PrincipalChange, Securable
from lakectl.governance.names import Name, format_name, parse_name
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
    # owners to transfer: {kind: owner_change, securable_type, securable, name, from, to}
    owner_changes: list[dict[str, Any]] = field(default_factory=list)
    # column masks and row filters: {kind: mask_set|mask_drop|row_filter_set|row_filter_drop, securable_type,
    # securable, name, column (None for a row filter), function (None for a drop), columns, was}
    mask_changes: list[dict[str, Any]] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return sum(m["kind"] == kind for m in self.mask_changes + self.owner_changes)

    @property
    def pending(self) -> bool:
        return bool(self.changes or self.tag_changes or self.owner_changes or self.mask_changes)

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
                out.append(
                    {
                        "action": action,
                        "securable_type": c.securable.type,
                        "securable": format_name(c.securable.name),
                        "principal": c.principal,
                        "privilege": p,
                    }
                )
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
                _once(
                    plan.unsupported,
                    f"{e.key_path}.grants.{principal}: {', '.join(unknown)} — this server has no such privilege; not applied",
                )
            privs = privs & caps.privileges
            targets = [principal]
            if principal in policy.groups and not caps.groups:
                members = policy.groups[principal]
                if members:
                    _once(
                        plan.notes,
                        f"group {principal!r}: this server has no groups; its grants go to its declared members ({', '.join(members)})",
                    )
                    targets = members
                else:
                    _once(
                        plan.unsupported,
                        f"{e.key_path}.grants.{principal}: this server has no groups (declare members: to grant them one by one); not applied",
                    )
                    continue
            for t in targets:
                out.setdefault(t, set()).update(privs)
        if not caps.tags and (e.tags or e.column_tags):
            what = ", ".join(
                [f"{k}={v}" for k, v in e.tags.items()] + [f"{c}.{k}={v}" for c, tags in e.column_tags.items() for k, v in tags.items()]
            )
            _once(plan.unsupported, f"{e.key_path}: tags ({what}) — this server cannot hold tags; not set")
        why = "Databricks only" if backend.name != "databricks" else "needs SQL on a warehouse (set warehouse_id in the databricks target)"
        if not caps.masks and e.column_masks:
            masks = ", ".join(f"{c}: {f or 'none'}" for c, f in e.column_masks.items())
            _once(plan.unsupported, f"{e.key_path}: column masks ({masks}) — {why}; not set")
        if not caps.row_filters and e.row_filter:
            _once(plan.unsupported, f"{e.key_path}: row filter {e.row_filter['function'] or 'none'} — {why}; not set")
    return {p: frozenset(v) for p, v in out.items() if v}


def visibility_roots(policy: Policy) -> list[Securable]:
    """What the caller must see whole for a plan to be right: each listed securable, the parent a wildcard is
    expanded in, and each `managed.under` root."""
    roots = [Securable("catalog" if len(r) == 1 else "schema", r) for r in policy.managed_under]
    for e in policy.entries:
        parent = e.name[:-1]
        roots.append(Securable("catalog" if len(parent) == 1 else "schema", parent) if e.wildcard else Securable(e.type, e.name))
    return list(dict.fromkeys(roots))


def check_full_view(policy: Policy, backend: GrantsBackend) -> None:
    """Refuse to plan from a partial view: a token that sees fewer grants or securables than the policy manages
    would plan false additions and miss revokes. Backends that cannot tell (no `unseen`) are trusted."""
    unseen_fn = getattr(backend, "unseen", None)
    unseen = unseen_fn(visibility_roots(policy)) if unseen_fn else []
    if unseen:
        first = f"{unseen[0].type} {format_name(unseen[0].name)}"
        more = f" (+{len(unseen) - 1} more)" if len(unseen) > 1 else ""
        raise UsageError(
            f"the token acts as {backend.caller}, who cannot see every grant the policy manages: not a metastore admin"
            f" (grant.admins) nor the owner of {first}{more}, its schema or its catalog; a plan from this view would be wrong",
            "use a metastore admin's token or the owner's",
        )


def build_plan(policy: Policy, backend: GrantsBackend) -> Plan:
    check_full_view(policy, backend)
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
            plan.self_lockout.append(
                {"securable": key(c.securable), "principal": c.principal, "privileges": sorted(MANAGING & set(c.remove))}
            )
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

    if backend.capabilities.masks or backend.capabilities.row_filters:
        plan.mask_changes = plan_masks(plan.securables, entries, backend)

    transferable = backend.capabilities.owner_transfer
    for s in plan.securables:
        for e in entries[s]:
            if not e.owner or owned.get(s) == e.owner:
                continue
            if not transferable or s.type not in _OWNER_TYPES:
                _once(
                    plan.unsupported,
                    f"{e.key_path}.owner: {e.owner!r} (now {owned.get(s)!r}) — this server cannot transfer ownership"
                    f"{'' if not transferable else ' of a ' + s.type}; not changed",
                )
                continue
            plan.owner_changes.append(
                {
                    "kind": "owner_change",
                    "securable_type": s.type,
                    "securable": format_name(s.name),
                    "name": list(s.name),
                    "from": owned.get(s),
                    "to": e.owner,
                }
            )
            _owner_lockout(plan, s, owned.get(s), e.owner, backend)
    return plan


_OWNER_TYPES = ("catalog", "schema", "table")  # ownership transfer through the catalog APIs (Databricks)


def _owner_lockout(plan: Plan, s: Securable, old: str | None, new: str, backend: GrantsBackend) -> None:
    """Transferring away the caller's own ownership takes its power to manage `s` unless it keeps MANAGE
    (after this plan's grant changes) or is a metastore admin: flagged like a revoke of its own MANAGE."""
    caller = backend.caller
    if caller is None or old != caller or new == caller or caller in backend.admins:
        return
    held = set(plan.actual.get(s, {}).get(caller, frozenset()))
    for c in plan.changes:
        if c.securable == s and c.principal == caller:
            held = (held | set(c.add)) - set(c.remove)
    if not held & MANAGING:
        plan.self_lockout.append({"securable": key(s), "principal": caller, "privileges": ["OWNERSHIP"]})


def same_function(held: str | None, want: str | None) -> bool:
    """Unity Catalog keeps names in lower case: compare function names part by part, case-insensitively."""
    if held is None or want is None:
        return held is want
    return tuple(p.lower() for p in held.split(".")) == tuple(p.lower() for p in parse_name(want))


def same_binding(held_fn: str | None, held_cols: list[str], fn: str | None, cols: list[str]) -> bool:
    """A mask or row filter as the server holds it equals the wanted one: the same function (none for a drop)
    and, when there is one, the same columns (case-insensitively, in order)."""
    return same_function(held_fn, fn) and (fn is None or [c.lower() for c in held_cols] == [c.lower() for c in cols])


def plan_masks(securables: list[Securable], entries: dict[Securable, list[Entry]], backend: GrantsBackend) -> list[dict[str, Any]]:
    """Column mask and row filter changes for the tables whose entries declare them. Only what is declared is
    managed: a column's `mask:` (null: no mask) and a table's `row_filter:` (null: none); masks on columns the
    policy says nothing about are left alone."""
    want: dict[Securable, tuple[dict[str, tuple[str | None, list[str]]], dict[str, Any] | None]] = {}
    for s in securables:
        if s.type != "table":
            continue
        masks: dict[str, tuple[str | None, list[str]]] = {}
        row_filter = None
        for e in entries[s]:
            masks.update({c: (f, e.mask_using.get(c, [])) for c, f in e.column_masks.items()})
            row_filter = e.row_filter or row_filter
        if masks or row_filter:
            want[s] = (masks, row_filter)
    if not want:
        return []
    have = backend.get_table_policies(list(want))  # type: ignore[attr-defined]
    out: list[dict[str, Any]] = []
    for s, (masks, row_filter) in want.items():
        held_masks, held_filter = have[s]
        base = {"securable_type": s.type, "securable": format_name(s.name), "name": list(s.name)}
        if backend.capabilities.masks:
            for column, (fn, using) in sorted(masks.items()):
                held_fn, held_using = held_masks.get(column, (None, []))
                if same_binding(held_fn, held_using, fn, using):
                    continue
                out.append(
                    {
                        "kind": "mask_set" if fn else "mask_drop",
                        **base,
                        "column": column,
                        "function": fn,
                        "columns": list(using) if fn else [],
                        "was": held_fn,
                    }
                )
        if backend.capabilities.row_filters and row_filter:
            fn, cols = row_filter["function"], row_filter["columns"]
            held_fn, held_cols = held_filter or (None, [])
            if not same_binding(held_fn, held_cols, fn, cols):
                out.append(
                    {
                        "kind": "row_filter_set" if fn else "row_filter_drop",
                        **base,
                        "column": None,
                        "function": fn,
                        "columns": list(cols) if fn else [],
                        "was": held_fn,
                    }
                )
    return out


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
                out.append(
                    {
                        "securable_type": s.type,
                        "securable": format_name(s.name),
                        "name": list(s.name),
                        "column": column,
                        "set": to_set,
                        "unset": to_unset,
                    }
                )
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
