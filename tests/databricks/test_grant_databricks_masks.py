"""`lakectl grant` on Databricks: owners, column masks and row filters. The real WorkspaceClient against the
loopback contract server (area unity_catalog): masks and row filters are read from `tables.get` (TableInfo),
set with SQL statements on the warehouse whose exact text is asserted (hostile names quoted), owners
transferred with the catalog APIs' PATCH whose exact path and body are asserted; a second plan is empty."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.databricks.conftest import CANARY, encoded, warehouse_of, write_grant_config
from tests.databricks_fake.areas.unity_catalog import add_securable, grant, set_principals, table_info

pytestmark = [pytest.mark.databricks]

CAT, SCHEMA = "o'brien#1", "gold?x=1&y"
HOSTILE_COL = "ph`one 'x"  # a backtick, a quote and a space in a column name
HOSTILE_FN = "m'ask `fn`"  # ... and in a mask function's name
Q_TABLE = "`o'brien#1`.`gold?x=1&y`.`plain`"
Q_KPI = "`o'brien#1`.`gold?x=1&y`.`kpi`"
BASE = "/api/2.1/unity-catalog"


def _fn(name: str) -> str:
    from lakectl.governance.names import format_name

    return format_name((CAT, "sec", name))


@pytest.fixture
def workspace(fake):
    add_securable(fake, "catalog", CAT, owner="owner@example.com")
    add_securable(fake, "schema", f"{CAT}.{SCHEMA}", owner="owner@example.com")
    add_securable(
        fake,
        "table",
        f"{CAT}.{SCHEMA}.plain",
        owner="lead@example.com",
        columns=[
            {"name": "email", "type_name": "STRING"},
            {"name": HOSTILE_COL, "type_name": "STRING"},
            {"name": "country", "type_name": "STRING"},
        ],
    )
    add_securable(
        fake,
        "table",
        f"{CAT}.{SCHEMA}.kpi",
        owner="owner@example.com",
        columns=[
            {"name": "email", "type_name": "STRING", "mask": {"function_name": f"{CAT}.sec.old_mask"}},
            {"name": "country", "type_name": "STRING"},
        ],
        row_filter={"function_name": f"{CAT}.sec.old_filter", "input_column_names": ["country"]},
    )
    set_principals(fake, {"analysts", "admin", "lead@example.com", "owner@example.com", "someone@example.com"})
    yield fake
    set_principals(fake, None)
    fake.area("unity_catalog").clear()


class Warehouse:
    """A SQL engine answering exactly the statements a test expects, each changing the fake's TableInfo the way
    Databricks would; any other statement fails (so a wrongly quoted one is caught)."""

    def __init__(self, fake) -> None:
        self.fake, self.seen = fake, []
        plain, kpi = f"{CAT}.{SCHEMA}.plain", f"{CAT}.{SCHEMA}.kpi"
        self.effects = {
            f"ALTER TABLE {Q_TABLE} ALTER COLUMN `email` SET MASK `o'brien#1`.`sec`.`mask_email`": lambda: self._mask(
                plain, "email", {"function_name": f"{CAT}.sec.mask_email"}
            ),
            f"ALTER TABLE {Q_TABLE} ALTER COLUMN `ph``one 'x` SET MASK `o'brien#1`.`sec`.`m'ask ``fn``` USING COLUMNS (`country`)": lambda: (
                self._mask(plain, HOSTILE_COL, {"function_name": f"{CAT}.sec.{HOSTILE_FN}", "using_column_names": ["country"]})
            ),
            f"ALTER TABLE {Q_TABLE} SET ROW FILTER `o'brien#1`.`sec`.`by_region` ON (`country`)": lambda: table_info(fake, plain).update(
                row_filter={"function_name": f"{CAT}.sec.by_region", "input_column_names": ["country"]}
            ),
            f"ALTER TABLE {Q_KPI} ALTER COLUMN `email` DROP MASK": lambda: self._mask(kpi, "email", None),
            f"ALTER TABLE {Q_KPI} DROP ROW FILTER": lambda: table_info(fake, kpi).update(row_filter=None),
        }

    def _mask(self, table: str, column: str, mask) -> None:
        for c in table_info(self.fake, table)["columns"]:
            if c["name"] == column:
                c.pop("mask", None)
                if mask:
                    c["mask"] = mask

    def __call__(self, statement, params, catalog, schema):
        self.seen.append(statement)
        if statement not in self.effects:
            raise ValueError(f"[PARSE_SYNTAX_ERROR] unexpected statement: {statement}")
        with self.fake.lock:
            self.effects[statement]()
        return [], []


def _policy(**tables):
    from lakectl.governance.policy import parse_policy

    return parse_policy(
        {
            "principals": {"users": ["lead@example.com", "someone@example.com"], "groups": {"analysts": {}}},
            **({"tables": tables} if tables else {}),
        },
        "grants.yaml",
    )


MASKS = {
    f"`{CAT}`.`{SCHEMA}`.plain": {
        "columns": {
            "email": {"mask": _fn("mask_email")},
            HOSTILE_COL: {"mask": {"function": _fn(HOSTILE_FN), "using_columns": ["country"]}},
            "country": {"tags": {}},
        },
        "row_filter": {"function": _fn("by_region"), "columns": ["country"]},
    },
    f"`{CAT}`.`{SCHEMA}`.kpi": {"columns": {"email": {"mask": None}}, "row_filter": None},
}


def _backend(sdk, warehouse_id: str | None = None, **kw):
    from lakectl.governance.databricks import DatabricksBackend

    return DatabricksBackend(
        sdk,
        admins=frozenset({"admin"}),
        threads=2,
        where="fake",
        caller="lead@example.com",
        warehouse=warehouse_of(sdk, warehouse_id),
        **kw,
    )


def test_masks_and_row_filters_are_read_from_table_info_set_with_exact_sql_then_nothing_is_left(workspace, sdk):
    from lakectl.governance.plan import build_plan
    from lakectl.jobs.grant import GrantParams, _plan_result, apply

    warehouse = Warehouse(workspace)
    workspace.warehouse = warehouse
    backend = _backend(sdk, warehouse_id="wh-1")
    try:
        plan = build_plan(_policy(**MASKS), backend)
        assert plan.unsupported == [] and plan.changes == [] and plan.tag_changes == []
        assert [(m["kind"], m["securable"], m["column"], m["function"], m["columns"], m["was"]) for m in plan.mask_changes] == [
            ("mask_set", f"`{CAT}`.`{SCHEMA}`.plain", "email", _fn("mask_email"), [], None),
            ("mask_set", f"`{CAT}`.`{SCHEMA}`.plain", HOSTILE_COL, _fn(HOSTILE_FN), ["country"], None),
            ("row_filter_set", f"`{CAT}`.`{SCHEMA}`.plain", None, _fn("by_region"), ["country"], None),
            ("mask_drop", f"`{CAT}`.`{SCHEMA}`.kpi", "email", None, [], f"{CAT}.sec.old_mask"),
            ("row_filter_drop", f"`{CAT}`.`{SCHEMA}`.kpi", None, None, [], f"{CAT}.sec.old_filter"),
        ]
        doc = _plan_result("plan", plan, "grants.yaml", backend)
        assert doc.status == "changes" and (doc.metrics["masks_to_set"], doc.metrics["masks_to_drop"]) == (2, 1)
        assert (doc.metrics["row_filters_to_set"], doc.metrics["row_filters_to_drop"], doc.metrics["to_add"]) == (1, 1, 0)
        reads = [(r.method, r.raw_path) for r in workspace.requests if r.raw_path.startswith(f"{BASE}/tables/")]
        assert sorted(reads) == [
            ("GET", f"{BASE}/tables/{encoded(CAT, SCHEMA, 'kpi')}"),
            ("GET", f"{BASE}/tables/{encoded(CAT, SCHEMA, 'plain')}"),
        ]
        assert not workspace.calls("POST", r"/api/2\.0/sql/statements/?$")  # reading needs no SQL

        workspace.requests.clear()
        params: dict = {}
        result = apply(GrantParams(action="apply"), params, plan, backend, "grants.yaml")
        assert result.status == "ok" and result.metrics["failed"] == [] and result.metrics["mask_changes_applied"] == 5
        assert params["mask_changes"] == plan.mask_changes  # recorded in ops.runs with the rest
        assert sorted(warehouse.seen) == sorted(warehouse.effects)  # each statement exactly once, nothing else
        plain_order = [s for s in warehouse.seen if Q_TABLE in s]
        assert plain_order == list(warehouse.effects)[:3]  # a table's changes in plan order
        bodies = [r.body for r in workspace.calls("POST", r"/api/2\.0/sql/statements/?$")]
        assert len(bodies) == 5 and all(b["warehouse_id"] == "wh-1" and "parameters" not in b for b in bodies)
        verify = [r.raw_path for r in workspace.requests if r.method == "GET" and r.raw_path.startswith(f"{BASE}/tables/")]
        assert sorted(verify) == [f"{BASE}/tables/{encoded(CAT, SCHEMA, 'kpi')}", f"{BASE}/tables/{encoded(CAT, SCHEMA, 'plain')}"]

        again = build_plan(_policy(**MASKS), backend)
        assert again.mask_changes == [] and not again.pending
    finally:
        backend.close()


def test_a_mask_the_workspace_does_not_show_after_the_statement_is_reported_failed(workspace, sdk):
    from lakectl.governance.plan import build_plan

    warehouse = Warehouse(workspace)
    warehouse.effects[f"ALTER TABLE {Q_KPI} DROP ROW FILTER"] = lambda: None  # "succeeds" but changes nothing
    workspace.warehouse = warehouse
    backend = _backend(sdk, warehouse_id="wh-1")
    try:
        plan = build_plan(_policy(**{f"`{CAT}`.`{SCHEMA}`.kpi": MASKS[f"`{CAT}`.`{SCHEMA}`.kpi"]}), backend)
        results = backend.apply_masks(plan.mask_changes)
    finally:
        backend.close()
    assert [(c["kind"], e) for c, e in results] == [
        ("mask_drop", None),
        ("row_filter_drop", f"the workspace ran the statement but table {CAT + '.' + SCHEMA + '.kpi'!r} shows {CAT}.sec.old_filter there"),
    ]


def test_without_a_warehouse_masks_and_row_filters_are_listed_unsupported(workspace, sdk):
    from lakectl.governance.plan import build_plan

    backend = _backend(sdk)
    try:
        plan = build_plan(_policy(**MASKS), backend)
    finally:
        backend.close()
    assert plan.mask_changes == []
    assert any("column masks (email: " in u and "needs SQL on a warehouse" in u for u in plan.unsupported)
    assert any("row filter none" in u for u in plan.unsupported)
    assert not workspace.calls("GET", rf"{BASE}/tables/.+")


def test_owners_are_transferred_with_the_catalog_apis_and_verified(workspace, sdk):
    from lakectl.governance.plan import build_plan
    from lakectl.jobs.grant import GrantParams, apply

    policy = {
        "principals": {"users": ["lead@example.com", "someone@example.com"], "groups": {"analysts": {}}},
        "catalogs": {f"`{CAT}`": {"owner": "analysts"}},
        "schemas": {f"`{CAT}`.`{SCHEMA}`": {"owner": "owner@example.com"}},  # already so: no change
        "tables": {f"`{CAT}`.`{SCHEMA}`.kpi": {"owner": "someone@example.com"}},
    }
    from lakectl.governance.policy import parse_policy

    backend = _backend(sdk)
    try:
        plan = build_plan(parse_policy(policy, "grants.yaml"), backend)
        assert plan.unsupported == [] and plan.self_lockout == []
        assert [(o["securable_type"], o["from"], o["to"]) for o in plan.owner_changes] == [
            ("catalog", "owner@example.com", "analysts"),
            ("table", "owner@example.com", "someone@example.com"),
        ]
        workspace.requests.clear()
        result = apply(GrantParams(action="apply"), {}, plan, backend, "grants.yaml")
        assert result.status == "ok" and result.metrics["owner_changes_applied"] == 2
        assert [(r.method, r.raw_path, r.body) for r in workspace.requests] == [
            ("PATCH", f"{BASE}/catalogs/{encoded(CAT)}", {"owner": "analysts"}),
            ("PATCH", f"{BASE}/tables/{encoded(CAT, SCHEMA, 'kpi')}", {"owner": "someone@example.com"}),
            ("GET", f"{BASE}/tables/{encoded(CAT, SCHEMA, 'kpi')}", None),  # a table's PATCH answers nothing: read back
        ]
        assert table_info(workspace, f"{CAT}.{SCHEMA}.kpi")["owner"] == "someone@example.com"
        assert build_plan(parse_policy(policy, "grants.yaml"), backend).owner_changes == []
    finally:
        backend.close()


def test_giving_away_the_callers_own_ownership_is_refused_unless_it_keeps_manage(workspace, sdk):
    from lakectl.core.errors import UsageError
    from lakectl.governance.plan import build_plan
    from lakectl.governance.policy import parse_policy
    from lakectl.jobs.grant import GrantParams, apply

    table = f"`{CAT}`.`{SCHEMA}`.plain"  # owned by the caller, lead@example.com
    doc = {"principals": {"users": ["lead@example.com", "someone@example.com"]}, "tables": {table: {"owner": "someone@example.com"}}}
    backend = _backend(sdk)
    try:
        plan = build_plan(parse_policy(doc, "grants.yaml"), backend)
        assert plan.self_lockout == [{"securable": f"table:{table}", "principal": "lead@example.com", "privileges": ["OWNERSHIP"]}]
        workspace.requests.clear()
        with pytest.raises(UsageError, match="revokes your own OWNERSHIP"):
            apply(GrantParams(action="apply"), {}, plan, backend, "grants.yaml")
        assert not [r for r in workspace.requests if r.method == "PATCH"]  # nothing sent
        grant(workspace, "table", f"{CAT}.{SCHEMA}.plain", "lead@example.com", "MANAGE")  # keeps MANAGE: allowed
        assert build_plan(parse_policy(doc, "grants.yaml"), backend).self_lockout == []
        doc["tables"][table]["grants"] = {"lead@example.com": ["SELECT"]}  # the policy omits that MANAGE: the owner's
        again = build_plan(parse_policy(doc, "grants.yaml"), backend)  # grants are never revoked, so it is kept
        assert again.self_lockout == [] and [k["privileges"] for k in again.kept] == [["MANAGE"]]
    finally:
        backend.close()


def test_drift_on_a_databricks_target_names_a_changed_mask_and_exits_8(workspace, cli, tmp_path):
    policy = tmp_path / "grants.yaml"
    policy.write_text(
        yaml.safe_dump(
            {
                "principals": {"users": ["lead@example.com"]},
                "tables": {f"`{CAT}`.`{SCHEMA}`.kpi": {"columns": {"email": {"mask": _fn("old_mask")}}}},
            }
        )
    )
    workspace.warehouse = Warehouse(workspace)
    table_info(workspace, f"{CAT}.{SCHEMA}.kpi")["columns"][0]["mask"] = {"function_name": f"{CAT}.sec.by_hand"}  # changed by hand
    cfg = write_grant_config(tmp_path, policy)
    proc = cli("--config", str(cfg), "--target", "dbx", "grant", "drift", "--json", timeout=120)
    assert proc.returncode == 8, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["masks_to_set"] == 1 and doc["to_add"] == doc["to_revoke"] == 0
    assert [(m["kind"], m["column"], m["function"], m["was"]) for m in doc["mask_changes"]] == [
        ("mask_set", "email", _fn("old_mask"), f"{CAT}.sec.by_hand")
    ]
    assert CANARY not in proc.stdout + proc.stderr
    cli.env["COLUMNS"] = "300"  # no wrapping
    text = cli("--config", str(cfg), "--target", "dbx", "grant", "plan", timeout=120)
    assert text.returncode == 8, text.stderr
    assert f"+ set mask {_fn('old_mask')} on table `{CAT}`.`{SCHEMA}`.kpi column email (was {CAT}.sec.by_hand)" in text.stdout, text.stdout
