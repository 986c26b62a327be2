"""The planner's safety rails on an in-memory grants store (the real server is in
tests/integration/test_grant_uc.py; the open-source server has no MANAGE, so the self-lockout rail
can only be shown on a store that has it, as Databricks does)."""

from __future__ import annotations

import pytest

from lakectl.core.errors import UsageError
from lakectl.governance.backend import ApplyOutcome, Capabilities, PrincipalChange, Securable
from lakectl.governance.plan import build_plan
from lakectl.governance.policy import parse_policy
from lakectl.governance.privileges import PRIVILEGES


class MemoryBackend:
    """Grants held in dicts, with every privilege and groups (as a Databricks metastore would)."""

    name = "memory"
    capabilities = Capabilities(privileges=frozenset().union(*PRIVILEGES.values()), groups=True)

    def __init__(self, caller: str, grants: dict[Securable, dict[str, set[str]]], owners: dict[Securable, str]) -> None:
        self.caller, self.admins, self.url, self.requests = caller, frozenset({"admin"}), "memory://", 0
        self.grants, self._owners = grants, owners

    def get_grants(self, securables):
        return {s: {p: frozenset(v) for p, v in self.grants.get(s, {}).items() if v} for s in securables}

    def owner(self, s):
        return self._owners.get(s)

    def children(self, type, parent):
        return sorted(s.name for s in self.grants if s.type == type and s.name[:-1] == parent)

    def missing_principals(self, principals):
        return set()

    def apply(self, changes: list[PrincipalChange]) -> ApplyOutcome:
        for c in changes:
            held = self.grants.setdefault(c.securable, {}).setdefault(c.principal, set())
            held |= set(c.add)
            held -= set(c.remove)
        return ApplyOutcome(applied=list(changes))


T1, T2 = Securable("table", ("c", "s", "t1")), Securable("table", ("c", "s", "t2"))


def _backend(caller="lead@x.com"):
    return MemoryBackend(
        caller,
        {
            T1: {"lead@x.com": {"MANAGE", "SELECT"}, "owner@x.com": {"SELECT"}, "admin": {"MODIFY"}},
            T2: {"lead@x.com": {"SELECT"}},
        },
        owners={T1: "owner@x.com", T2: "owner@x.com"},
    )


POLICY = {
    "principals": {"users": ["lead@x.com", "ana@x.com"]},
    "tables": {"c.s.*": {"grants": {"ana@x.com": ["SELECT"]}}, "c.s.t2": {"grants": {"lead@x.com": ["SELECT"]}}},
}


def test_wildcards_merge_with_explicit_entries_and_revokes_are_listed():
    plan = build_plan(parse_policy(POLICY, "p.yaml"), _backend())
    flat = {(c["action"], c["securable"], c["principal"], c["privilege"]) for c in plan.flat()}
    assert flat == {
        ("add", "c.s.t1", "ana@x.com", "SELECT"),
        ("add", "c.s.t2", "ana@x.com", "SELECT"),
        ("revoke", "c.s.t1", "lead@x.com", "MANAGE"),
        ("revoke", "c.s.t1", "lead@x.com", "SELECT"),
    }
    assert plan.unchanged == 1  # lead's SELECT on t2
    kept = {(k["principal"], k["why"]) for k in plan.kept}
    assert kept == {("owner@x.com", "owner"), ("admin", "metastore admin")}
    assert plan.unsupported == []  # this store has every privilege


def test_revoking_the_callers_own_manage_is_refused_unless_overridden():
    from lakectl.jobs.grant import GrantParams, apply

    backend = _backend()
    plan = build_plan(parse_policy(POLICY, "p.yaml"), backend)
    assert plan.self_lockout == [{"securable": "table:c.s.t1", "principal": "lead@x.com", "privileges": ["MANAGE"]}]
    with pytest.raises(UsageError, match="revokes your own MANAGE on table:c.s.t1"):
        apply(GrantParams(action="apply"), {}, plan, backend, "p.yaml")
    assert "MANAGE" in backend.grants[T1]["lead@x.com"]  # nothing was applied
    params: dict = {}
    result = apply(GrantParams(action="apply", allow_self_lockout=True), params, plan, backend, "p.yaml")
    assert result.metrics["changes_applied"] == 4 and len(params["changes"]) == 4
    assert build_plan(parse_policy(POLICY, "p.yaml"), backend).changes == []


def test_another_callers_manage_is_an_ordinary_revoke():
    plan = build_plan(parse_policy(POLICY, "p.yaml"), _backend(caller="admin"))
    assert plan.self_lockout == [] and plan.to_revoke == 2


def test_a_managed_catalog_is_never_left_without_owner_or_manage():
    from lakectl.jobs.grant import GrantParams, apply

    cat = Securable("catalog", ("c",))
    backend = MemoryBackend("admin", {cat: {"lead@x.com": {"MANAGE", "USE_CATALOG"}}}, owners={})
    policy = parse_policy(
        {"principals": {"users": ["lead@x.com"]}, "catalogs": {"c": {"grants": {"lead@x.com": ["USE_CATALOG"]}}}}, "p.yaml"
    )
    plan = build_plan(policy, backend)
    assert plan.orphaned == ["catalog:c"]
    with pytest.raises(UsageError, match="leaves catalog:c with no owner and nobody holding MANAGE"):
        apply(GrantParams(action="apply"), {}, plan, backend, "p.yaml")
    backend._owners[cat] = "owner@x.com"
    assert build_plan(policy, backend).orphaned == []


class TaggingBackend(MemoryBackend):
    """A store that holds tags too (as a Databricks workspace with a warehouse does)."""

    capabilities = Capabilities(privileges=frozenset().union(*PRIVILEGES.values()), groups=True, tags=True)

    def __init__(self, *a, tags=None, **kw) -> None:
        super().__init__(*a, **kw)
        self.tags = tags or {}  # Securable -> (own tags, {column: tags})
        self.asked = []

    def get_tags(self, securables):
        self.asked.append(list(securables))
        return {s: self.tags.get(s, ({}, {})) for s in securables}


def test_tags_are_planned_only_where_the_policy_declares_them_and_a_declared_set_is_managed_whole():
    t3 = Securable("table", ("c", "s", "t3"))
    b = TaggingBackend(
        "lead@x.com",
        {T1: {}, T2: {}, t3: {}},
        owners={},
        tags={
            T1: ({"classification": "public", "team": "bi"}, {"email": {"pii": "email", "old": "x"}, "id": {"keep": "me"}}),
            T2: ({"classification": "confidential"}, {}),
            t3: ({"hand": "made"}, {}),
        },
    )
    policy = parse_policy(
        {
            "principals": {"users": ["lead@x.com"]},
            "tables": {
                "c.s.t1": {
                    "tags": {"classification": "confidential"},
                    "columns": {"email": {"tags": {"pii": "email"}}, "phone": {"tags": {"pii": "phone"}}},
                },
                "c.s.t2": {"tags": {"classification": "confidential"}},
                "c.s.t3": {"grants": {"lead@x.com": ["SELECT"]}},
            },
        },
        "grants.yaml",
    )
    plan = build_plan(policy, b)
    assert b.asked == [[T1, T2]]  # t3 declares no tags: not read, its hand-made tag left alone
    assert plan.tag_changes == [
        {
            "securable_type": "table",
            "securable": "c.s.t1",
            "name": ["c", "s", "t1"],
            "column": None,
            "set": {"classification": "confidential"},
            "unset": ["team"],
        },
        {"securable_type": "table", "securable": "c.s.t1", "name": ["c", "s", "t1"], "column": "email", "set": {}, "unset": ["old"]},
        {
            "securable_type": "table",
            "securable": "c.s.t1",
            "name": ["c", "s", "t1"],
            "column": "phone",
            "set": {"pii": "phone"},
            "unset": [],
        },
    ]  # column `id` is not declared: its tag stays
    assert (plan.tags_to_set, plan.tags_to_unset) == (2, 2)


def test_a_server_without_tags_lists_them_as_unsupported_and_plans_no_tag_change():
    policy = parse_policy({"principals": {"users": ["lead@x.com"]}, "tables": {"c.s.t1": {"tags": {"pii": "yes"}}}}, "grants.yaml")
    plan = build_plan(policy, _backend())
    assert plan.tag_changes == [] and any("cannot hold tags" in u for u in plan.unsupported)


def test_plan_and_apply_agree_on_principals_the_server_does_not_know(capsys):
    """Issue 31, item 13: plan showed grants to an unknown principal and exited 8; only apply refused (exit 2).
    Now plan reports what apply would refuse, with apply's exit code, and nothing is applied."""
    from lakectl.cli.boundary import exit_code
    from lakectl.cli.commands.grant import _present_plan
    from lakectl.jobs.grant import GrantParams, _plan_or_apply

    class Strict(MemoryBackend):
        known = frozenset({"lead@x.com", "owner@x.com", "admin"})

        def missing_principals(self, principals):
            return set(principals) - self.known

    backend = Strict("admin", {T1: {"lead@x.com": {"SELECT"}}}, owners={T1: "owner@x.com"})
    policy = parse_policy(
        {"principals": {"users": ["lead@x.com", "ghost@x.com"]}, "tables": {"c.s.t1": {"grants": {"ghost@x.com": ["SELECT"]}}}},
        "p.yaml",
    )
    plan = _plan_or_apply(GrantParams(action="plan"), {}, policy, backend)
    assert plan.status == "refused" and plan.metrics["unknown_principals"] == ["ghost@x.com"]
    with pytest.raises(UsageError, match="unknown to the server: ghost@x.com") as refused:
        _plan_or_apply(GrantParams(action="apply"), {}, policy, backend)
    assert exit_code(plan, changes_exit=True) == refused.value.exit_code == 2
    assert "ghost@x.com" not in backend.grants[T1]  # nothing applied
    _present_plan(plan, "table")
    assert "apply would refuse: principal(s) unknown to the server: ghost@x.com" in " ".join(capsys.readouterr().out.split())
    backend.known |= {"ghost@x.com"}  # once the server knows it: an ordinary plan with changes (exit 8)
    plan = _plan_or_apply(GrantParams(action="plan"), {}, policy, backend)
    assert plan.status == "changes" and exit_code(plan, changes_exit=True) == 8
