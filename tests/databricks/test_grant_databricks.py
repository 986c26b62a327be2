"""`lakectl grant` on Databricks: the real WorkspaceClient against the loopback contract server
(tests/databricks_fake, area unity_catalog), asserting the exact requests — lower-case securable
types, full names as one percent-encoded path segment, privileges with underscores — and tags as SQL
statements on the warehouse."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.databricks.conftest import CANARY, encoded, warehouse_of, write_grant_config
from tests.databricks_fake.areas.unity_catalog import add_securable, grant, grants_of, set_principals

pytestmark = [pytest.mark.databricks]

# Databricks names may not hold dots, spaces or slashes; everything else must survive the URL path.
CAT, SCHEMA = "o'brien#1", "gold?x=1&y"
TABLES = ["kpi%41", "caf\u00e9`t", "plain"]


@pytest.fixture
def workspace(fake):
    add_securable(fake, "catalog", CAT, owner="owner@example.com")
    add_securable(fake, "schema", f"{CAT}.{SCHEMA}")
    for t in TABLES:
        add_securable(fake, "table", f"{CAT}.{SCHEMA}.{t}")
    set_principals(fake, {"analysts", "etl-bot", "admin", "lead@example.com", "owner@example.com", "someone@example.com"})
    yield fake
    set_principals(fake, None)
    fake.area("unity_catalog").clear()


def _policy(extra_tables: dict | None = None, managed_under: list[str] | None = None):
    from lakectl.governance.names import format_name
    from lakectl.governance.policy import parse_policy

    return parse_policy(
        {
            "principals": {"users": ["lead@example.com"], "service_principals": ["etl-bot"], "groups": {"analysts": {}}},
            "catalogs": {format_name((CAT,)): {"grants": {"analysts": ["USE_CATALOG"]}}},
            "schemas": {format_name((CAT, SCHEMA)): {"grants": {"analysts": ["USE_SCHEMA", "SELECT"]}}},
            "tables": {format_name((CAT, SCHEMA, "*")): {"grants": {"etl-bot": ["SELECT", "MODIFY"]}}, **(extra_tables or {})},
            **({"managed": {"under": managed_under}} if managed_under else {}),
        },
        "grants.yaml",
    )


def _backend(sdk, warehouse_id: str | None = None, **kw):
    from lakectl.governance.databricks import DatabricksBackend

    return DatabricksBackend(
        sdk,
        admins=frozenset({"admin"}),
        threads=4,
        where="fake",
        caller="lead@example.com",
        warehouse=warehouse_of(sdk, warehouse_id),
        **kw,
    )


def test_plan_and_apply_send_encoded_names_and_underscore_privileges_then_nothing_is_left(workspace, sdk):
    from lakectl.governance.plan import build_plan

    grant(workspace, "table", f"{CAT}.{SCHEMA}.plain", "someone@example.com", "SELECT")  # made by hand: revoked
    backend = _backend(sdk)
    try:
        plan = build_plan(_policy(), backend)
        assert (plan.to_add, plan.to_revoke) == (1 + 2 + 2 * 3, 1)
        listing = workspace.calls("GET", r"/unity-catalog/tables$")
        assert listing and all(r.query.get("omit_columns") == "true" for r in listing)  # names only
        workspace.requests.clear()
        outcome = backend.apply(plan.changes)
        assert not outcome.failed
        patches = {r.raw_path: r.body for r in workspace.requests if r.method == "PATCH"}
        base = "/api/2.1/unity-catalog/permissions"
        assert patches == {
            f"{base}/catalog/{encoded(CAT)}": {"changes": [{"principal": "analysts", "add": ["USE_CATALOG"]}]},
            f"{base}/schema/{encoded(CAT, SCHEMA)}": {"changes": [{"principal": "analysts", "add": ["SELECT", "USE_SCHEMA"]}]},
            f"{base}/table/{encoded(CAT, SCHEMA, TABLES[0])}": {"changes": [{"principal": "etl-bot", "add": ["MODIFY", "SELECT"]}]},
            f"{base}/table/{encoded(CAT, SCHEMA, TABLES[1])}": {"changes": [{"principal": "etl-bot", "add": ["MODIFY", "SELECT"]}]},
            f"{base}/table/{encoded(CAT, SCHEMA, TABLES[2])}": {
                "changes": [
                    {"principal": "etl-bot", "add": ["MODIFY", "SELECT"]},
                    {"principal": "someone@example.com", "remove": ["SELECT"]},
                ]
            },
        }
        assert f"{base}/table/o%27brien%231.gold%3Fx%3D1%26y.kpi%2541" in patches  # spelled out once
        assert grants_of(workspace, "table", f"{CAT}.{SCHEMA}.kpi%41") == {"etl-bot": {"SELECT", "MODIFY"}}
        assert grants_of(workspace, "table", f"{CAT}.{SCHEMA}.plain") == {"etl-bot": {"SELECT", "MODIFY"}}
        again = build_plan(_policy(), backend)
        assert again.changes == [] and again.unchanged == 1 + 2 + 2 * 3
    finally:
        backend.close()
    gets = [r for r in workspace.requests if r.method == "GET" and "/permissions/" in r.raw_path]
    assert len(gets) == 5  # the second plan: one read per securable
    assert not workspace.calls("GET", r"/unity-catalog/tables$")  # the listing is the backend's, read once


def test_listings_are_paginated_and_a_schemas_tables_are_read_once(workspace, sdk):
    """A plan wants a schema's tables for the wildcard entry and for what it manages: one paged listing."""
    from lakectl.governance.names import format_name
    from lakectl.governance.plan import build_plan
    from tests.databricks_fake.areas.unity_catalog import LIST_PAGE_SIZE

    assert len(TABLES) > LIST_PAGE_SIZE  # the listing crosses a page boundary
    backend = _backend(sdk)
    try:
        plan = build_plan(_policy(managed_under=[format_name((CAT, SCHEMA))]), backend)
    finally:
        backend.close()
    assert plan.to_add == 1 + 2 + 2 * len(TABLES)  # every table was found, across pages
    listings = [r for r in workspace.requests if r.method == "GET" and r.path.endswith(("/catalogs", "/schemas", "/tables"))]
    assert listings and all("max_results" in r.query for r in listings), [r.raw_path for r in listings]
    tables = workspace.calls("GET", r"/unity-catalog/tables$")
    assert [r.query.get("page_token") for r in tables] == [None, str(LIST_PAGE_SIZE)]  # one listing, two pages


def test_an_owner_and_an_admin_are_kept_and_an_unknown_principal_fails_alone(workspace, sdk):
    from lakectl.governance.backend import PrincipalChange, Securable
    from lakectl.governance.plan import build_plan

    table = f"{CAT}.{SCHEMA}.plain"
    grant(workspace, "table", table, "admin", "MODIFY")
    grant(workspace, "catalog", CAT, "owner@example.com", "USE_CATALOG")
    backend = _backend(sdk)
    try:
        plan = build_plan(_policy(), backend)
        assert {(k["principal"], k["why"]) for k in plan.kept} == {("admin", "metastore admin"), ("owner@example.com", "owner")}
        s = Securable("table", (CAT, SCHEMA, "plain"))
        workspace.requests.clear()
        outcome = backend.apply([PrincipalChange(s, "etl-bot", ("SELECT",)), PrincipalChange(s, "ghost@example.com", ("SELECT",))])
    finally:
        backend.close()
    assert [c.principal for c in outcome.applied] == ["etl-bot"]
    assert len(outcome.failed) == 1 and "ghost@example.com" in outcome.failed[0].error
    assert [(r.method, r.status) for r in workspace.requests] == [("PATCH", 400), ("GET", 200), ("PATCH", 200), ("PATCH", 400)]
    assert grants_of(workspace, "table", table) == {"admin": {"MODIFY"}, "etl-bot": {"SELECT"}}
    assert not workspace.failures


def test_tags_are_read_and_set_as_sql_on_the_warehouse(workspace, sdk):
    from lakectl.governance.names import format_name
    from lakectl.governance.plan import build_plan
    from lakectl.jobs.grant import _apply_tags

    seen: list[tuple[str, dict]] = []

    def engine(statement, params, catalog, schema):
        seen.append((statement, params))
        if statement.startswith("SELECT"):
            return [("column_name", "STRING"), ("tag_name", "STRING"), ("tag_value", "STRING")], [
                [None, "classification", "public"],
                [None, "team", "bi"],
                ["email", "pii", "email"],
            ]
        return [], []

    workspace.warehouse = engine
    table = format_name((CAT, SCHEMA, "plain"))
    backend = _backend(sdk, warehouse_id="wh-1")
    try:
        plan = build_plan(
            _policy(
                {
                    table: {
                        "tags": {"classification": "confidential"},
                        "columns": {"email": {"tags": {"pii": "email"}}, "phone": {"tags": {"pii": "phone"}}},
                    }
                }
            ),
            backend,
        )
        assert [(t["column"], t["set"], t["unset"]) for t in plan.tag_changes] == [
            (None, {"classification": "confidential"}, ["team"]),
            ("phone", {"pii": "phone"}, []),
        ]
        failed: list = []
        assert len(_apply_tags(plan.tag_changes, backend, failed)) == 2 and failed == []
    finally:
        backend.close()
    select, params = seen[0]
    assert "system.information_schema.table_tags" in select and CAT not in select  # names bound, never in the text
    assert params == {"p0": (CAT, "STRING"), "p1": (SCHEMA, "STRING"), "p2": ("plain", "STRING")}
    quoted = "`o'brien#1`.`gold?x=1&y`.`plain`"
    assert [s for s, _ in seen[1:]] == [
        f"ALTER TABLE {quoted} SET TAGS ('classification' = 'confidential')",
        f"ALTER TABLE {quoted} UNSET TAGS ('team')",
        f"ALTER TABLE {quoted} ALTER COLUMN `phone` SET TAGS ('pii' = 'phone')",
    ]
    bodies = [r.body for r in workspace.calls("POST", r"/api/2\.0/sql/statements/?$")]
    assert bodies and all(b["warehouse_id"] == "wh-1" for b in bodies)


def test_grant_plan_on_a_databricks_target_uses_the_workspace(workspace, cli, tmp_path):
    policy = tmp_path / "grants.yaml"
    from lakectl.governance.names import format_name

    policy.write_text(
        yaml.safe_dump(
            {
                "principals": {"groups": {"analysts": {}}},
                "catalogs": {format_name((CAT,)): {"grants": {"analysts": ["USE_CATALOG"]}}},
                "tables": {format_name((CAT, SCHEMA, "plain")): {"columns": {"email": {"tags": {"pii": "email"}}}}},
            }
        )
    )
    workspace.warehouse = lambda statement, params, catalog, schema: (
        [("column_name", "STRING"), ("tag_name", "STRING"), ("tag_value", "STRING")],
        [],
    )
    cfg = write_grant_config(tmp_path, policy)
    proc = cli("--config", str(cfg), "--target", "dbx", "grant", "plan", "--json", timeout=120)
    assert proc.returncode == 8, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["to_add"] == 1 and doc["changes"][0]["securable"] == format_name((CAT,))
    assert doc["tags_to_set"] == 1 and doc["tag_changes"][0]["column"] == "email"
    assert CANARY not in proc.stdout + proc.stderr
    assert workspace.calls("GET", r"/permissions/catalog/")
    text = cli("--config", str(cfg), "--target", "dbx", "grant", "plan", timeout=120)
    assert text.returncode == 8 and "+ tag pii=email on table" in text.stdout and "column email" in text.stdout, text.stdout + text.stderr


def test_show_reads_effective_permissions_with_inheritance(workspace, sdk):
    from lakectl.governance.names import format_name
    from lakectl.jobs.grant import GrantParams, show

    table = f"{CAT}.{SCHEMA}.plain"
    grant(workspace, "catalog", CAT, "analysts", "USE_CATALOG")
    grant(workspace, "table", table, "etl-bot", "SELECT")
    backend = _backend(sdk)
    try:
        workspace.requests.clear()
        result = show(GrantParams(action="show", securables=[format_name((CAT, SCHEMA, "plain"))]), backend)
    finally:
        backend.close()
    assert result.details == [
        {"principal": "owner@example.com", "privilege": "OWNER", "inherited_from": None},
        {"principal": "etl-bot", "privilege": "SELECT", "inherited_from": None},
        {"principal": "analysts", "privilege": "USE_CATALOG", "inherited_from": f"catalog {format_name((CAT,))}"},
    ]
    assert [r.raw_path for r in workspace.requests] == [
        f"/api/2.1/unity-catalog/tables/{encoded(CAT, SCHEMA, 'plain')}",
        f"/api/2.1/unity-catalog/effective-permissions/table/{encoded(CAT, SCHEMA, 'plain')}",
    ]
