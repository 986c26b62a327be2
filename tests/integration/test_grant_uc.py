"""`lakectl grant` against a real open-source Unity Catalog server (scripts/uc-local, authorization on).

Each test builds its own catalog through the REST API (EXTERNAL tables under tmp_path), writes a
policy, and runs the CLI in a subprocess, asserting exit codes, --json keys and the server's state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

pytestmark = [pytest.mark.uc, pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[2]
USERS = ["ana@example.com", "ben@example.com", "etl@example.com", "cy@example.com"]


def _cat(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
def env(uc_server, tmp_path):
    """A config pointing lakectl at the server (token from its file), and a runner for the CLI."""
    cfg = tmp_path / "lakectl.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "storage": {"root": str(tmp_path / "lake")},
                "grant": {"url": uc_server.url, "auth_file": str(uc_server.token_file), "policy": str(tmp_path / "grants.yaml")},
            }
        )
    )
    admin = uc_server.admin()
    for u in USERS:
        admin.user(u)

    def lakectl(*args: str, expect: int | None = 0, json_out: bool = True, extra_env: dict | None = None):
        cmd = [sys.executable, "-m", "lakectl", "--config", str(cfg), *args] + (["--json"] if json_out else [])
        e = {k: v for k, v in os.environ.items() if k != "UC_TOKEN"}
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path, env={**e, **(extra_env or {})})
        if expect is not None:
            assert proc.returncode == expect, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        if json_out and proc.stdout.strip():
            return json.loads(proc.stdout), proc
        return None, proc

    return {"admin": admin, "cli": lakectl, "policy": tmp_path / "grants.yaml", "tmp": tmp_path, "server": uc_server}


def _catalog(admin, tmp: Path, cat: str, schemas: dict[str, list[str]]) -> None:
    admin.catalog(cat)
    for s, tables in schemas.items():
        admin.schema(cat, s)
        for t in tables:
            admin.table(cat, s, t, (tmp / "data" / cat / s / t).as_uri())


def _write(path: Path, doc: dict) -> None:
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


def test_apply_3_principals_x_11_securables_then_second_apply_changes_nothing(env):
    admin, cli = env["admin"], env["cli"]
    cat = _cat("big")
    _catalog(
        admin,
        env["tmp"],
        cat,
        {"bronze": ["events", "quarantine"], "silver": ["events", "reviews", "customers"], "gold": ["kpi", "funnel", "sentiment"]},
    )
    _write(
        env["policy"],
        {
            "principals": {"users": USERS[:3]},
            "catalogs": {cat: {"grants": {u: ["USE_CATALOG"] for u in USERS[:3]}}},
            "schemas": {f"{cat}.{s}": {"grants": {u: ["USE_SCHEMA"] for u in USERS[:3]}} for s in ("bronze", "silver", "gold")},
            "tables": {
                f"{cat}.gold.*": {"grants": {USERS[0]: ["SELECT"], USERS[1]: ["SELECT"]}},
                **{
                    f"{cat}.{s}.{t}": {"grants": {USERS[2]: ["SELECT", "MODIFY"]}}
                    for s, ts in {"bronze": ["events", "quarantine"], "silver": ["events", "reviews", "customers"]}.items()
                    for t in ts
                },
            },
        },
    )
    plan, _ = cli("grant", "plan", expect=8)
    assert plan["securables"] == 12 and plan["to_revoke"] == 0
    assert plan["to_add"] == 3 + 9 + 6 + 10 == len(plan["changes"])
    applied, _ = cli("grant", "apply")
    assert applied["changes_applied"] == 28 and applied["status"] == "ok"
    assert admin.grants("schema", f"{cat}.silver") == {u: ["USE SCHEMA"] for u in USERS[:3]}
    assert admin.grants("table", f"{cat}.gold.kpi") == {USERS[0]: ["SELECT"], USERS[1]: ["SELECT"]}
    assert admin.grants("table", f"{cat}.bronze.events") == {USERS[2]: ["MODIFY", "SELECT"]}
    again, _ = cli("grant", "apply")
    assert again["changes_applied"] == 0 and again["unchanged"] == 28
    cli("grant", "plan", expect=0)
    # every apply is in the run ledger with its change list
    runs, _ = cli("monitor", "runs", "--command", "grant")
    rows = [r for r in runs["details"] if r["command"] == "grant"]
    assert len(rows) == 2
    recorded = [json.loads(r["params"]) for r in rows]
    assert sorted(len(p["changes"]) for p in recorded) == [0, 28]
    assert {
        "action": "add",
        "securable_type": "table",
        "securable": f"{cat}.gold.kpi",
        "principal": USERS[0],
        "privilege": "SELECT",
    } in max(recorded, key=lambda p: len(p["changes"]))["changes"]


def test_hand_made_grant_is_drift_and_is_removed_only_where_managed(env):
    admin, cli = env["admin"], env["cli"]
    cat = _cat("drift")
    _catalog(admin, env["tmp"], cat, {"gold": ["kpi", "funnel"], "silver": ["events", "raw"]})
    _write(
        env["policy"],
        {
            "principals": {"users": USERS},
            "managed": {"under": [f"{cat}.gold"]},
            "tables": {f"{cat}.gold.*": {"grants": {USERS[0]: ["SELECT"]}}, f"{cat}.silver.events": {"grants": {USERS[1]: ["SELECT"]}}},
        },
    )
    cli("grant", "apply")
    admin.patch("table", f"{cat}.gold.kpi", USERS[3], add=["MODIFY"])  # under a managed schema
    admin.patch("table", f"{cat}.silver.events", USERS[3], add=["SELECT"])  # a listed (managed) table
    admin.patch("table", f"{cat}.silver.raw", USERS[3], add=["SELECT"])  # not managed: never touched
    drift, proc = cli("grant", "drift", expect=8)
    out = {(c["securable"], c["principal"], c["privilege"]) for c in drift["out_of_policy"]}
    assert out == {(f"{cat}.gold.kpi", USERS[3], "MODIFY"), (f"{cat}.silver.events", USERS[3], "SELECT")}
    assert drift["to_revoke"] == 2 and drift["to_add"] == 0
    _, human = cli("grant", "drift", expect=8, json_out=False)
    assert f"out of policy: {USERS[3]} holds MODIFY on table {cat}.gold.kpi" in " ".join(human.stdout.split())
    applied, _ = cli("grant", "apply")
    assert applied["changes_applied"] == 2
    assert admin.grants("table", f"{cat}.gold.kpi") == {USERS[0]: ["SELECT"]}
    assert admin.grants("table", f"{cat}.silver.raw") == {USERS[3]: ["SELECT"]}
    cli("grant", "drift", expect=0)


def test_export_then_plan_is_a_round_trip(env):
    admin, cli = env["admin"], env["cli"]
    cat = _cat("exp")
    _catalog(admin, env["tmp"], cat, {"a": ["t1", "t2"], "b": ["t3"]})
    admin.patch("catalog", cat, USERS[0], add=["USE CATALOG", "CREATE SCHEMA"])
    admin.patch("schema", f"{cat}.a", USERS[1], add=["USE SCHEMA"])
    admin.patch("table", f"{cat}.a.t2", USERS[2], add=["SELECT", "MODIFY"])
    admin.patch("table", f"{cat}.b.t3", USERS[1], add=["SELECT"])
    out = env["tmp"] / "exported.yaml"
    doc, _ = cli("grant", "export", cat, "--out", str(out))
    assert doc["securables"] == 4 and out.exists()
    exported = yaml.safe_load(out.read_text())
    assert exported["managed"] == {"under": [cat]}
    assert exported["tables"][f"{cat}.a.t2"] == {"grants": {USERS[2]: ["MODIFY", "SELECT"]}}
    plan, _ = cli("grant", "plan", "--policy", str(out), expect=0)
    assert plan["changes"] == [] and plan["unchanged"] == 6
    # the round trip also works the other way: a grant added later shows up as a revoke
    admin.patch("table", f"{cat}.a.t1", USERS[3], add=["SELECT"])
    plan, _ = cli("grant", "plan", "--policy", str(out), expect=8)
    assert plan["to_revoke"] == 1 and plan["changes"][0]["securable"] == f"{cat}.a.t1"


def test_owner_and_admin_are_never_revoked(env):
    admin, cli, server = env["admin"], env["cli"], env["server"]
    cat = _cat("own")
    _catalog(admin, env["tmp"], cat, {"s": ["by_admin"]})
    owner = "dora@example.com"
    admin.user(owner)
    admin.patch("catalog", cat, owner, add=["USE CATALOG"])
    admin.patch("schema", f"{cat}.s", owner, add=["USE SCHEMA", "CREATE TABLE"])
    from uc_server import UcAdmin

    dora = UcAdmin(server.url, server.token_for(owner))
    dora.table(cat, "s", "by_dora", (env["tmp"] / "data" / "by_dora").as_uri())
    dora.patch("table", f"{cat}.s.by_dora", owner, add=["SELECT"])  # the owner's own explicit grant
    admin.patch("table", f"{cat}.s.by_admin", "admin", add=["SELECT"])  # the metastore admin's
    admin.patch("table", f"{cat}.s.by_admin", USERS[0], add=["SELECT"])  # an ordinary grant
    # the policy manages the whole catalog and names neither dora nor admin
    _write(
        env["policy"],
        {
            "principals": {"users": [USERS[1]]},
            "managed": {"under": [cat]},
            "tables": {f"{cat}.s.by_dora": {"grants": {USERS[1]: ["SELECT"]}}},
        },
    )
    plan, _ = cli("grant", "plan", expect=8)
    revoked = {(c["securable"], c["principal"]) for c in plan["changes"] if c["action"] == "revoke"}
    # dora's catalog and schema grants are ordinary grants there (she owns only the table): revoked
    assert revoked == {(f"{cat}.s.by_admin", USERS[0]), (cat, owner), (f"{cat}.s", owner)}
    kept = {(k["securable"], k["principal"], k["why"]) for k in plan["kept"]}
    assert (f"table:{cat}.s.by_dora", owner, "owner") in kept
    assert (f"table:{cat}.s.by_admin", "admin", "metastore admin") in kept
    cli("grant", "apply")
    assert admin.grants("table", f"{cat}.s.by_dora") == {owner: ["SELECT"], USERS[1]: ["SELECT"]}
    assert admin.grants("table", f"{cat}.s.by_admin") == {"admin": ["SELECT"]}
    assert admin.grants("catalog", cat) == {}


HOSTILE_USERS = [
    'o\'brien "q"@example.com',
    "tick`tock@example.com",
    "space man@example.com",
    "zoë.ünïcødé@exämple.com",
    "semi;colon--@example.com",
]


def test_hostile_names_round_trip_without_injection(env):
    admin, cli = env["admin"], env["cli"]
    cat = _cat("odd-name@x")  # the server allows [A-Za-z0-9_@-] in object names
    _catalog(admin, env["tmp"], cat, {"s-1": ["t@1", "t-2"]})
    for u in HOSTILE_USERS:
        admin.user(u)
    _write(
        env["policy"],
        {
            "principals": {"users": HOSTILE_USERS},
            "managed": {"under": [cat]},
            "catalogs": {cat: {"grants": {u: ["USE_CATALOG"] for u in HOSTILE_USERS}}},
            "tables": {
                f"{cat}.s-1.*": {"grants": {u: ["SELECT"] for u in HOSTILE_USERS[:3]}},
                f"{cat}.s-1.t-2": {"grants": {HOSTILE_USERS[3]: ["MODIFY"]}},
            },
        },
    )
    applied, _ = cli("grant", "apply")
    assert applied["changes_applied"] == 5 + 6 + 1
    assert admin.grants("table", f"{cat}.s-1.t-2") == {**{u: ["SELECT"] for u in HOSTILE_USERS[:3]}, HOSTILE_USERS[3]: ["MODIFY"]}
    cli("grant", "plan", expect=0)
    out = env["tmp"] / "odd.yaml"
    cli("grant", "export", cat, "--out", str(out))
    plan, _ = cli("grant", "plan", "--policy", str(out), expect=0)
    assert plan["unchanged"] == 12

    # names that would change the request if they were not one encoded path segment
    for evil in ("t-2?x=1", "t-2/../../catalogs", "t-2#frag", "t%2F2", "t-2 OR 1=1"):
        _write(
            env["policy"],
            {"principals": {"users": [HOSTILE_USERS[0]]}, "tables": {f"{cat}.s-1.`{evil}`": {"grants": {HOSTILE_USERS[0]: ["MODIFY"]}}}},
        )
        _, proc = cli("grant", "apply", expect=2, json_out=False)
        assert ("not found on the server" in proc.stderr or "the server refused the name" in proc.stderr) and proc.stderr.count(
            "\n"
        ) == 1, proc.stderr
    assert admin.grants("table", f"{cat}.s-1.t-2") == {**{u: ["SELECT"] for u in HOSTILE_USERS[:3]}, HOSTILE_USERS[3]: ["MODIFY"]}


def test_apply_refuses_a_saved_plan_when_the_server_changed_and_unsupported_parts_exit_2(env):
    admin, cli = env["admin"], env["cli"]
    cat = _cat("stale")
    _catalog(admin, env["tmp"], cat, {"s": ["t"]})
    _write(
        env["policy"],
        {
            "principals": {"users": USERS[:2], "groups": ["readers"]},
            "tables": {
                f"{cat}.s.t": {
                    "grants": {USERS[0]: ["SELECT"], "readers": ["SELECT"], USERS[1]: ["ALL_PRIVILEGES"]},
                    "tags": {"pii": "none"},
                }
            },
        },
    )
    plan_file = env["tmp"] / "plan.json"
    plan, _ = cli("grant", "plan", "--out", str(plan_file), expect=8)
    assert plan["to_add"] == 1
    text = " ".join(plan["unsupported"])
    assert "ALL_PRIVILEGES" in text and "no groups" in text and "tags" in text
    _, proc = cli("grant", "apply", "--plan", str(plan_file), expect=2, json_out=False)
    assert "cannot be held by this server" in proc.stderr
    admin.patch("table", f"{cat}.s.t", USERS[1], add=["MODIFY"])
    _, proc = cli("grant", "apply", "--plan", str(plan_file), "--skip-unsupported", expect=6, json_out=False)
    assert "changed since the plan" in proc.stderr and admin.grants("table", f"{cat}.s.t") == {USERS[1]: ["MODIFY"]}
    cli("grant", "plan", "--out", str(plan_file), expect=8)
    applied, _ = cli("grant", "apply", "--plan", str(plan_file), "--skip-unsupported")
    assert applied["changes_applied"] == 2  # + SELECT for ana, - MODIFY for ben
    assert admin.grants("table", f"{cat}.s.t") == {USERS[0]: ["SELECT"]}
    dry, _ = cli("grant", "apply", "--dry-run", "--skip-unsupported", expect=0)
    assert dry["changes"] == []


def test_show_marks_inherited_privileges(env):
    admin, cli = env["admin"], env["cli"]
    cat = _cat("show")
    _catalog(admin, env["tmp"], cat, {"s": ["t"]})
    admin.patch("catalog", cat, USERS[0], add=["USE CATALOG"])
    admin.patch("table", f"{cat}.s.t", USERS[0], add=["SELECT"])
    shown, _ = cli("grant", "show", f"{cat}.s.t")
    rows = {(r["principal"], r["privilege"], r["inherited_from"]) for r in shown["details"]}
    assert (USERS[0], "SELECT", None) in rows and (USERS[0], "USE_CATALOG", f"catalog {cat}") in rows
    assert ("admin", "OWNER", None) in rows


def test_a_wrong_token_is_one_line_and_never_printed(env, uc_server):
    _write(env["policy"], {"principals": {"users": [USERS[0]]}, "catalogs": {"nope": {}}})
    _, proc = env["cli"](
        "grant", "plan", "--url", uc_server.url, expect=None, json_out=False, extra_env={"UC_TOKEN": "not-a-valid-token-xyz"}
    )
    assert proc.returncode == 2 and "not-a-valid-token-xyz" not in proc.stdout + proc.stderr
    assert proc.stderr.startswith("lakectl: error: ") and proc.stderr.count("\n") == 1 and "HTTP 401" in proc.stderr
    assert "check the token" in proc.stderr
    # a wildcard over a schema that does not exist: one line, exit 2
    _write(env["policy"], {"principals": {"users": [USERS[0]]}, "tables": {"nocat.nosch.*": {"grants": {USERS[0]: ["SELECT"]}}}})
    _, proc = env["cli"]("grant", "plan", expect=2, json_out=False)
    assert proc.stderr.strip() == "lakectl: error: schema 'nocat.nosch' not found on the server (hint: create it first, or fix the policy)"


def test_a_failing_principal_in_a_patch_is_reported_and_the_others_still_land(env, uc_server):
    """The server's PATCH stops at the first unknown principal: the backend re-reads and retries,
    so each change ends up applied or failed with its own error."""
    from lakectl.governance.backend import PrincipalChange, Securable
    from lakectl.governance.uc_oss import UcOssBackend

    admin = env["admin"]
    cat = _cat("partial")
    _catalog(admin, env["tmp"], cat, {"s": ["t"]})
    backend = UcOssBackend(uc_server.url, uc_server.token)
    t = Securable("table", (cat, "s", "t"))
    outcome = backend.apply(
        [
            PrincipalChange(t, USERS[0], add=("SELECT",)),
            PrincipalChange(t, "ghost@example.com", add=("SELECT",)),
            PrincipalChange(t, USERS[1], add=("MODIFY", "SELECT")),
        ]
    )
    assert [c.principal for c in outcome.applied] == [USERS[0], USERS[1]]
    assert [f.change.principal for f in outcome.failed] == ["ghost@example.com"]
    assert "HTTP 404" in outcome.failed[0].error and "ghost@example.com" in outcome.failed[0].error
    assert admin.grants("table", f"{cat}.s.t") == {USERS[0]: ["SELECT"], USERS[1]: ["MODIFY", "SELECT"]}
    assert backend.missing_principals({USERS[0], "ghost@example.com"}) == {"ghost@example.com"}
    assert "Bearer" not in repr(backend) and uc_server.token not in repr(backend)


def test_the_example_policy_as_documented_plans_then_applies_on_a_fresh_local_server(tmp_path_factory):
    """docs/grant.md's flow on a server nobody prepared: `scripts/uc-local start`, `scripts/uc-local seed`,
    then `lakectl grant plan` (exit 8) and `lakectl grant apply` (exit 0) with configs/lakectl.yaml and the
    shipped configs/grants.yaml, token from grant.auth_file; a second plan has nothing to do and is fast."""
    from uc_server import _script, start_server

    root = tmp_path_factory.mktemp("fresh")
    server = start_server(root / "uc")
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("UC_TOKEN", "LAKECTL_CONFIG")}
        env.update(LAKECTL_ROOT=str(root), UC_URL=server.url)

        def lakectl(*args: str, expect: int) -> dict:
            cmd = [sys.executable, "-m", "lakectl", "--config", str(REPO / "configs" / "lakectl.yaml"), *args, "--json"]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
            assert proc.returncode == expect, f"exit {proc.returncode}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
            return json.loads(proc.stdout)

        seeded = _script(["seed"], {**server._env, "PYTHON": sys.executable}, 120)
        assert "created user etl-bot@example.com" in seeded and "created table lakehouse.silver.customers" in seeded
        assert _script(["seed"], {**server._env, "PYTHON": sys.executable}, 120).strip() == ""  # idempotent
        plan = lakectl("grant", "plan", expect=8)
        assert plan["policy"].endswith("configs/grants.yaml") and plan["unsupported"] == [] and plan["to_revoke"] == 0
        applied = lakectl("grant", "apply", expect=0)
        assert applied["status"] == "ok" and applied["changes_applied"] == plan["to_add"] > 15
        admin = server.admin()
        assert admin.grants("schema", "lakehouse.gold")["alice@example.com"] == ["USE SCHEMA"]  # the group's, via its members
        assert admin.grants("table", "lakehouse.silver.events") == {
            "carol@example.com": ["SELECT"],
            "etl-bot@example.com": ["MODIFY", "SELECT"],
        }
        again = lakectl("grant", "plan", expect=0)
        # 7 securables (gold.* is empty on a fresh server): one GET each, plus the gold listings
        assert again["securables"] == 7 and again["requests"] <= 7 + 5 and again["duration_s"] < 2.0
    finally:
        server.stop()


def test_monitor_check_breaches_on_grants_drift(env):
    """`grant.sla.grants_drift: fail` makes `monitor check` exit 7 naming the hand-made grant."""
    admin, cli = env["admin"], env["cli"]
    cat = _cat("sla")
    _catalog(admin, env["tmp"], cat, {"s": ["t"]})
    _write(env["policy"], {"principals": {"users": [USERS[0]]}, "tables": {f"{cat}.s.t": {"grants": {USERS[0]: ["SELECT"]}}}})
    cfg = env["tmp"] / "lakectl.yaml"
    doc = yaml.safe_load(cfg.read_text())
    doc["grant"]["sla"] = {"grants_drift": "fail"}
    cfg.write_text(yaml.safe_dump(doc))
    cli("grant", "apply")
    ok, _ = cli("monitor", "check", expect=0)
    assert [c["status"] for c in ok["details"] if c["kind"] == "grants_drift"] == ["pass"]
    admin.patch("table", f"{cat}.s.t", USERS[1], add=["MODIFY"])
    breach, _ = cli("monitor", "check", expect=7)
    check = next(c for c in breach["details"] if c["kind"] == "grants_drift")
    assert check["status"] == "breach" and f"out of policy: {USERS[1]} MODIFY on table {cat}.s.t" in check["message"]


def test_register_lakectls_delta_tables_then_grant_on_them(env, uc_server):
    """`grant register` puts lakectl's Delta tables (written here with delta-rs) in storage.catalog as
    EXTERNAL tables at their paths; a second run creates nothing; grants can then name them."""
    import pyarrow as pa
    from deltalake import write_deltalake

    admin, cli = env["admin"], env["cli"]
    cat = _cat("reg")
    lake = env["tmp"] / "lake" / "tables"
    write_deltalake(
        str(lake / "gold" / "kpi_hourly"),
        pa.table(
            {
                "event_hour": pa.array([1], pa.timestamp("us", tz="UTC")),
                "revenue": [1.5],
                "orders": pa.array([3], pa.int64()),
                "tags": [["a"]],
            }
        ),
    )
    write_deltalake(str(lake / "silver" / "events"), pa.table({"event_id": ["e1"], "price": pa.array([2.0], pa.float32())}))
    cfg = env["tmp"] / "lakectl.yaml"
    doc = yaml.safe_load(cfg.read_text())
    doc["storage"]["catalog"] = cat
    cfg.write_text(yaml.safe_dump(doc))
    dry, _ = cli("grant", "register", "gold.kpi_hourly", "silver.events", "bronze.events", "--dry-run")
    assert dry["would_create"] == 2 and dry["missing"] == 1
    assert cat not in [c["name"] for c in admin.call("GET", "/api/2.1/unity-catalog/catalogs")["catalogs"]]  # dry run: nothing created
    done, _ = cli("grant", "register", "gold.kpi_hourly", "silver.events", "bronze.events")
    assert done["created"] == 2 and done["missing"] == 1
    t = admin.call("GET", f"/api/2.1/unity-catalog/tables/{cat}.gold.kpi_hourly")
    assert t["table_type"] == "EXTERNAL" and t["storage_location"].rstrip("/") == (lake / "gold" / "kpi_hourly").as_uri()
    assert [(c["name"], c["type_text"]) for c in t["columns"]] == [
        ("event_hour", "timestamp"),
        ("revenue", "double"),
        ("orders", "bigint"),
        ("tags", "array<string>"),
    ]
    again, _ = cli("grant", "register", "gold.kpi_hourly", "silver.events")
    assert again["created"] == 0 and again["exists"] == 2
    _write(env["policy"], {"principals": {"users": [USERS[0]]}, "tables": {f"{cat}.gold.*": {"grants": {USERS[0]: ["SELECT"]}}}})
    applied, _ = cli("grant", "apply")
    assert applied["changes_applied"] == 1 and admin.grants("table", f"{cat}.gold.kpi_hourly") == {USERS[0]: ["SELECT"]}


def test_volume_grants_and_types_prefix(env):
    admin, cli = env["admin"], env["cli"]
    cat = _cat("vol")
    _catalog(admin, env["tmp"], cat, {"s": []})
    admin.call(
        "POST",
        "/api/2.1/unity-catalog/volumes",
        {
            "name": "files",
            "catalog_name": cat,
            "schema_name": "s",
            "volume_type": "EXTERNAL",
            "storage_location": (env["tmp"] / "data" / "files").as_uri(),
        },
    )
    _write(
        env["policy"],
        {
            "principals": {"users": [USERS[0]]},
            "managed": {"under": [f"{cat}.s"]},
            "volumes": {f"{cat}.s.files": {"grants": {USERS[0]: ["READ_VOLUME"]}}},
        },
    )
    applied, _ = cli("grant", "apply")
    assert applied["changes_applied"] == 1 and admin.grants("volume", f"{cat}.s.files") == {USERS[0]: ["READ VOLUME"]}
    cli("grant", "plan", expect=0)
    shown, _ = cli("grant", "show", f"volume:{cat}.s.files")
    assert (USERS[0], "READ_VOLUME") in {(r["principal"], r["privilege"]) for r in shown["details"]}
    exported, _ = cli("grant", "export", f"{cat}.s")
    assert yaml.safe_load(exported["policy_yaml"])["volumes"] == {f"{cat}.s.files": {"grants": {USERS[0]: ["READ_VOLUME"]}}}


def test_concurrent_patches_to_many_securables_land_exactly_over_reused_connections(env, uc_server):
    """8 threads PATCH 40 tables at once (4 principals each, adds and removes mixed): the server's state is
    exactly the requested one, every change is verified from the PATCH answers, and the requests share
    at most one keep-alive connection per thread."""
    from lakectl.governance.backend import PrincipalChange, Securable
    from lakectl.governance.uc_oss import UcOssBackend

    admin, cat = env["admin"], _cat("conc")
    _catalog(admin, env["tmp"], cat, {"s": [f"t{i:02d}" for i in range(40)]})
    tables = [Securable("table", (cat, "s", f"t{i:02d}")) for i in range(40)]
    for s in tables[::2]:  # half of them start with a grant the changes remove
        admin.patch("table", ".".join(s.name), USERS[3], add=["MODIFY"])
    backend = UcOssBackend(uc_server.url, uc_server.token, threads=8)
    try:
        changes = [
            PrincipalChange(s, u, ("SELECT",) if u != USERS[3] else (), ("MODIFY",) if u == USERS[3] else ()) for s in tables for u in USERS
        ]
        changes = [c for c in changes if c.add or c.remove]
        outcome = backend.apply(changes)
        assert not outcome.failed and len(outcome.applied) == len(changes)
        got = backend.get_grants(tables)
        assert backend.connections <= 8 and backend.requests == len(tables) * 2
    finally:
        backend.close()
    for s in tables:
        assert got[s] == {u: frozenset({"SELECT"}) for u in USERS[:3]}, s
        assert admin.grants("table", ".".join(s.name)) == {u: ["SELECT"] for u in USERS[:3]}


def test_a_token_that_cannot_see_everything_the_policy_manages_is_refused_not_planned(env, uc_server):
    """A non-admin's token sees only its own grants on objects it does not own, and listings without what it
    cannot use (the server's rule: the full grants of a securable go to the metastore admin and the owner of
    it, its schema or its catalog). plan, drift and apply say so in one line and exit 2 instead of planning
    a confident, wrong change list; the owner of what the policy manages plans normally."""
    admin, cli = env["admin"], env["cli"]
    cat = _cat("partial_view")
    _catalog(admin, env["tmp"], cat, {"gold": ["kpi", "funnel"]})
    viewer, owner = USERS[0], "dora@example.com"
    admin.user(owner)
    admin.patch("catalog", cat, viewer, add=["USE CATALOG"])
    admin.patch("schema", f"{cat}.gold", viewer, add=["USE SCHEMA"])
    admin.patch("table", f"{cat}.gold.kpi", viewer, add=["SELECT"])
    admin.patch("table", f"{cat}.gold.kpi", USERS[1], add=["SELECT"])
    admin.patch("table", f"{cat}.gold.funnel", USERS[1], add=["SELECT"])
    tables = {f"{cat}.gold.*": {"grants": {USERS[1]: ["SELECT"]}}, f"{cat}.gold.kpi": {"grants": {viewer: ["SELECT"]}}}
    _write(env["policy"], {"principals": {"users": USERS[:2]}, "tables": tables})
    cli("grant", "plan", expect=0)  # the admin sees both tables and ben's grants: nothing to do
    as_viewer = {"UC_TOKEN": uc_server.token_for(viewer)}
    for action in ("plan", "drift", "apply"):
        _, proc = cli("grant", action, expect=2, json_out=False, extra_env=as_viewer)
        assert proc.stderr.startswith("lakectl: error: ") and proc.stderr.count("\n") == 1, proc.stderr
        assert f"acts as {viewer}" in proc.stderr and "cannot see every grant" in proc.stderr, proc.stderr
        assert f"schema {cat}.gold" in proc.stderr and "grant.admins" in proc.stderr, proc.stderr
    assert admin.grants("table", f"{cat}.gold.kpi") == {viewer: ["SELECT"], USERS[1]: ["SELECT"]}  # apply changed nothing
    # a listed table the token cannot even read is refused the same way
    _write(env["policy"], {"principals": {"users": USERS[:2]}, "tables": {f"{cat}.gold.funnel": {"grants": {USERS[1]: ["SELECT"]}}}})
    _, proc = cli("grant", "plan", expect=2, json_out=False, extra_env=as_viewer)
    assert f"table {cat}.gold.funnel" in proc.stderr and "cannot see every grant" in proc.stderr, proc.stderr
    # the owner of a table sees all of its grants: planning on it needs no admin
    admin.schema(cat, "own")
    admin.patch("catalog", cat, owner, add=["USE CATALOG"])
    admin.patch("schema", f"{cat}.own", owner, add=["USE SCHEMA", "CREATE TABLE"])
    from uc_server import UcAdmin

    UcAdmin(uc_server.url, uc_server.token_for(owner)).table(cat, "own", "mine", (env["tmp"] / "data" / "mine").as_uri())
    admin.patch("table", f"{cat}.own.mine", USERS[1], add=["SELECT"])
    _write(env["policy"], {"principals": {"users": USERS[:2]}, "tables": {f"{cat}.own.mine": {"grants": {USERS[1]: ["SELECT"]}}}})
    plan, _ = cli("grant", "plan", expect=0, extra_env={"UC_TOKEN": uc_server.token_for(owner)})
    assert plan["unchanged"] == 1 and plan["to_revoke"] == 0
