"""The grants policy: names, validation errors (one line, file + key path, exit 2), spelling."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lakectl.core.errors import ConfigError
from lakectl.governance.names import format_name, parse_name
from lakectl.governance.policy import load_policy, parse_policy
from lakectl.governance.privileges import from_oss, to_oss

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text,parts",
    [
        ("a.b.c", ("a", "b", "c")),
        ("`my.cat`.s.t", ("my.cat", "s", "t")),
        ("`o``brien`.`sp ace`.`ü'\"`", ("o`brien", "sp ace", "ü'\"")),
        ("c.s.*", ("c", "s", "*")),
    ],
)
def test_names_round_trip(text, parts):
    assert parse_name(text) == parts
    assert parse_name(format_name(parts)) == parts


@pytest.mark.parametrize("bad", ["", "a..b", "a.", "`a", "a`b.c", "`a`b"])
def test_malformed_names_are_refused(bad):
    with pytest.raises(ValueError):
        parse_name(bad)


def test_privilege_spelling_translates_both_ways():
    assert to_oss("USE_CATALOG") == "USE CATALOG"
    assert from_oss("USE CATALOG") == "USE_CATALOG"
    assert from_oss("SELECT") == "SELECT"


BASE = {"principals": {"users": ["alice@x.com"], "groups": {"analysts": {"members": ["alice@x.com"]}}}}


def _policy(**sections):
    return parse_policy({**BASE, **sections}, "grants.yaml")


@pytest.mark.parametrize(
    "sections,where,what",
    [
        (
            {"tables": {"c.s.t": {"grants": {"alice@x.com": ["USE_CATALOG"]}}}},
            "tables.c.s.t.grants.alice@x.com[0]",
            "unknown privilege 'USE_CATALOG' for a table",
        ),
        (
            {"catalogs": {"c": {"grants": {"alice@x.com": ["USE CATALOG"]}}}},
            "catalogs.c.grants.alice@x.com[0]",
            "unknown privilege 'USE CATALOG'",
        ),
        ({"tables": {"c.s.t": {"grant": {}}}}, "tables.c.s.t.grant", "unknown key"),
        ({"tables": {"c.s.t": {"grants": {"mallory": ["SELECT"]}}}}, "tables.c.s.t.grants.mallory", "not declared"),
        (
            {"tables": {"c.s.t": {"grants": {"alice@x.com": ["SELECT", "SELECT"]}}}},
            "tables.c.s.t.grants.alice@x.com[1]",
            "duplicate entry 'SELECT'",
        ),
        ({"tables": {"c.s.t": {}, "`c`.s.t": {}}}, "tables.`c`.s.t", "duplicate table"),
        ({"schemas": {"c": {}}}, "schemas.c", "a schema is named catalog.schema"),
        ({"catalogs": {"*": {}}}, "catalogs.*", "a catalog is named catalog"),
        ({"managed": {"under": ["c.s.t"]}}, "managed.under[0]", "name a catalog or a catalog.schema"),
        ({"colour": 1}, "colour", "unknown key"),
    ],
)
def test_validation_errors_name_file_and_key_path(sections, where, what):
    with pytest.raises(ConfigError) as e:
        _policy(**sections)
    assert e.value.exit_code == 2
    assert e.value.message.startswith(f"grants.yaml: {where}: "), e.value.message
    assert what in e.value.message


def test_a_near_miss_spelling_gets_a_hint():
    with pytest.raises(ConfigError) as e:
        _policy(schemas={"c.s": {"grants": {"alice@x.com": ["use schema"]}}})
    assert "did you mean USE_SCHEMA" in (e.value.hint or "")


def test_wildcards_tags_masks_and_groups_parse():
    p = _policy(
        managed={"under": ["c"]},
        tables={
            "c.gold.*": {"grants": {"analysts": ["SELECT"]}},
            "c.s.t": {
                "tags": {"pii": "yes"},
                "columns": {"email": {"tags": {"pii": "email"}, "mask": "c.sec.m"}},
                "row_filter": {"function": "c.sec.f", "columns": ["country"]},
            },
        },
    )
    assert p.managed_under == [("c",)]
    wild, t = p.entries
    assert wild.wildcard and wild.grants == {"analysts": frozenset({"SELECT"})}
    assert t.column_tags == {"email": {"pii": "email"}} and t.column_masks == {"email": "c.sec.m"}
    assert p.groups == {"analysts": ["alice@x.com"]}


def test_duplicate_yaml_keys_are_refused(tmp_path):
    f = tmp_path / "g.yaml"
    f.write_text("principals:\n  users: [a]\ntables:\n  c.s.t: {}\n  c.s.u:\n    grants: {a: [SELECT]}\n    grants: {}\n")
    with pytest.raises(ConfigError) as e:
        load_policy(f)
    assert e.value.message == f"{f}: tables.c.s.u.grants: duplicate key (line 7)"


def test_the_example_policy_is_valid():
    p = load_policy(REPO / "configs" / "grants.yaml")
    assert len(p.principals) >= 3 and p.entries


def test_cli_reports_a_bad_policy_in_one_line_exit_2(tmp_path):
    f = tmp_path / "g.yaml"
    f.write_text("principals: {users: [a]}\ntables:\n  c.s.t: {grants: {a: [SELEC]}}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "lakectl", "grant", "plan", "--policy", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "UC_TOKEN": "x", "LAKECTL_LEDGER": "off"},
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"lakectl: error: {f}: tables.c.s.t.grants.a[0]: unknown privilege 'SELEC'")


def test_grant_plan_imports_no_spark_and_an_unreachable_server_is_exit_4(tmp_path):
    """The whole plan path (policy, backend, HTTP) runs without pyspark, mlflow, the SDK or delta-rs."""
    import os

    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lakectl", "grant", "plan", "--url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "UC_TOKEN": "secret-token-value"},
    )
    assert proc.returncode == 4, proc.stderr[-500:]
    modules = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert not modules & {"pyspark", "mlflow", "databricks", "deltalake"}
    errors = [line for line in proc.stderr.splitlines() if not line.startswith("import time:")]
    assert len(errors) == 1 and errors[0].startswith("lakectl: error: Unity Catalog server at http://127.0.0.1:9 unreachable")
    assert "secret-token-value" not in proc.stderr + proc.stdout


def test_masks_with_using_columns_and_explicit_drops_parse():
    p = _policy(
        tables={
            "c.s.t": {
                "columns": {"ssn": {"mask": {"function": "c.sec.`m'x`", "using_columns": ["country"]}}, "email": {"mask": None}},
                "row_filter": None,
            }
        }
    )
    (t,) = p.entries
    assert t.column_masks == {"ssn": "c.sec.`m'x`", "email": None} and t.mask_using == {"ssn": ["country"]}
    assert t.row_filter == {"function": None, "columns": []}


@pytest.mark.parametrize(
    "spec,where",
    [
        ({"columns": {"e": {"mask": "just_a_name"}}}, "tables.c.s.t.columns.e.mask"),
        ({"columns": {"e": {"mask": {"using_columns": ["x"]}}}}, "tables.c.s.t.columns.e.mask.function"),
        ({"columns": {"e": {"mask": {"function": "c.s.m", "using": ["x"]}}}}, "tables.c.s.t.columns.e.mask.using"),
        ({"row_filter": {"function": "c.s.*"}}, "tables.c.s.t.row_filter.function"),
    ],
)
def test_bad_mask_and_row_filter_functions_name_the_key(spec, where):
    with pytest.raises(ConfigError) as e:
        _policy(tables={"c.s.t": spec})
    assert f": {where}: " in e.value.message


def test_a_policy_that_parsed_before_is_read_from_the_cache_without_yaml(tmp_path, monkeypatch):
    f = tmp_path / "grants.yaml"
    f.write_text("principals: {users: [ana@example.com]}\ntables:\n  c.s.t: {grants: {ana@example.com: [SELECT]}}\n")
    first = load_policy(f)
    monkeypatch.setitem(sys.modules, "yaml", None)  # `import yaml` now fails: the second load must not need it
    again = load_policy(f)
    assert again == first and again.entries[0].grants == {"ana@example.com": frozenset({"SELECT"})}
    f.write_text(f.read_text().replace("[SELECT]", "[MODIFY]"))  # any edit is a miss, parsed (and validated) again
    with pytest.raises(ImportError):
        load_policy(f)
    monkeypatch.undo()
    f.write_text("principals: {users: [a@x.com]}\nprincipals: {users: [b@x.com]}\n")
    for _ in range(2):  # an invalid policy is never cached: the duplicate key is found each time
        with pytest.raises(ConfigError, match="duplicate key"):
            load_policy(f)
