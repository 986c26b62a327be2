"""lakectl optimize on real Delta tables: compaction, Z-order, clustering, properties, VACUUM guards,
bloom filters, missing tables, hostile identifiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakectl.config import settings_from_dict
from lakectl.core.errors import TableNotFound, UsageError
from lakectl.engine.context import JobContext
from lakectl.jobs import run_job

pytestmark = pytest.mark.spark
RETENTION_CHECK = "spark.databricks.delta.retentionDurationCheck.enabled"


def make_ctx(spark, tmp_path: Path, tables: dict | None = None) -> JobContext:
    settings = settings_from_dict({"storage": {"root": str(tmp_path / "lake")}, "tables": tables or {}}, "<test>")
    return JobContext(settings=settings, _spark=spark)


def write_small_files(spark, path: str, batches: int = 4, rows: int = 400, start: int = 0) -> None:
    """`batches` appends of 2 files each, customer ids spread over every file."""
    for b in range(batches):
        lo = start + b * rows
        (
            spark.range(lo, lo + rows)
            .selectExpr("id", "concat('c', cast((id * 7919) % 500 as string)) AS customer_id", "cast(id % 13 as double) AS price")
            .repartition(2)
            .write.format("delta")
            .mode("append")
            .save(path)
        )


def version(spark, path: str) -> int:
    from lakectl.lake.delta import table_version

    return table_version(spark, path)


def test_optimize_by_policy_reports_before_after_and_sets_properties(spark, tmp_path):
    ctx = make_ctx(
        spark,
        tmp_path,
        {
            "silver.events": {
                "optimize": {
                    "zorder_by": ["customer_id"],
                    "target_file_size": "8k",
                    "properties": {"delta.autoOptimize.optimizeWrite": "true", "delta.dataSkippingNumIndexedCols": "3"},
                }
            }
        },
    )
    path = ctx.settings.table("silver.events").path
    write_small_files(spark, path)
    rows_before = spark.read.format("delta").load(path).count()

    result = run_job(ctx, "optimize", {"tables": ["silver.events"]})
    d = result.details[0]
    assert d["files_before"] == 8 and d["files_removed"] == 8
    assert d["files_after"] == d["files_added"] >= 1
    assert d["files_after"] <= 1.2 * d["ideal_files"] + 1
    assert d["bytes_after"] > 0 and d["zorder_by"] == ["customer_id"]
    assert d["properties_set"] == {"delta.autoOptimize.optimizeWrite": "true", "delta.dataSkippingNumIndexedCols": "3"}
    props = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"]
    assert props["delta.autoOptimize.optimizeWrite"] == "true"
    assert spark.read.format("delta").load(path).count() == rows_before
    json.dumps(result.to_dict(), default=str)  # renders as --json
    # the target size is scoped to the OPTIMIZE: the session keeps its own
    assert spark.conf.get("spark.databricks.delta.optimize.maxFileSize", None) in (None, str(1024**3))

    again = run_job(ctx, "optimize", {"tables": ["silver.events"]})
    assert "properties_set" not in again.details[0]  # already set: no ALTER on a re-run


def test_dry_run_changes_nothing_and_lists_what_it_would_do(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path, {"gold.kpi_hourly": {"optimize": {"zorder_by": ["customer_id"], "vacuum_retain_hours": 200}}})
    path = ctx.settings.table("gold.kpi_hourly").path
    write_small_files(spark, path, batches=2)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id < 10")  # leaves removed files for VACUUM
    v = version(spark, path)
    result = run_job(ctx, "optimize", {"tables": ["gold.kpi_hourly"], "vacuum": True, "dry_run": True, "databricks": True})
    d = result.details[0]
    assert version(spark, path) == v and result.dry_run and d["action"] == "would optimize"
    assert d["statements"][0].startswith(f"OPTIMIZE delta.`{path}` ZORDER BY (`customer_id`)")
    assert d["vacuum_retain_hours"] == 200 and d["vacuum_would_delete"] == 0  # nothing is 200h old yet
    assert any(s.startswith("CREATE BLOOMFILTER") for s in d["statements"]) is False  # no bloom columns in policy


def test_vacuum_guard_refuses_short_retention_and_force_keeps_session_conf(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path)
    path = ctx.settings.table("bronze.events").path
    write_small_files(spark, path, batches=2)
    conf_before = spark.conf.get(RETENTION_CHECK, None)

    with pytest.raises(UsageError) as err:
        run_job(ctx, "optimize", {"tables": ["bronze.events"], "vacuum": True, "retain": "1h"})
    assert err.value.exit_code == 2 and "168h" in err.value.message

    dry = run_job(ctx, "optimize", {"tables": ["bronze.events"], "vacuum": True, "retain": "0h", "force": True, "dry_run": True})
    assert dry.details[0]["vacuum_would_delete"] == 0  # compaction has not run yet: nothing is removed
    done = run_job(ctx, "optimize", {"tables": ["bronze.events"], "vacuum": True, "retain": "0h", "force": True})
    d = done.details[0]
    assert d["files_removed"] == 4 and d["vacuum_forced"]
    assert d["vacuum_deleted"] == 4  # the 4 compacted-away files
    assert len(list(Path(path).glob("*.parquet"))) == d["files_after"]
    assert any(w.startswith("FORCED: bronze.events") for w in done.warnings)
    assert spark.conf.get(RETENTION_CHECK, None) == conf_before
    with pytest.raises(Exception):  # Delta's own check is still on in the session
        spark.sql(f"VACUUM delta.`{path}` RETAIN 0 HOURS DRY RUN").collect()


def test_vacuum_refuses_files_a_lagging_stream_still_needs(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path)
    src = ctx.settings.table("silver.events").path
    out = str(tmp_path / "lake" / "tables" / "gold" / "copy")
    checkpoint = ctx.settings.storage.checkpoints_dir / "aggregate" / "copy"
    write_small_files(spark, src, batches=1)

    def catch_up() -> None:
        q = (
            spark.readStream.format("delta")
            .load(src)
            .writeStream.format("delta")
            .option("checkpointLocation", str(checkpoint))
            .trigger(availableNow=True)
            .start(out)
        )
        q.awaitTermination()

    catch_up()
    write_small_files(spark, src, batches=2, start=10_000)  # the stream has not read these yet
    run_job(ctx, "optimize", {"tables": ["silver.events"]})  # compacts them away (tombstones)
    with pytest.raises(UsageError) as err:
        run_job(ctx, "optimize", {"tables": ["silver.events"], "vacuum": True, "retain": "0h", "force": True})
    assert str(checkpoint) in err.value.message and "still needs" in err.value.message
    assert spark.read.format("delta").load(src).count() == 1200  # nothing was deleted

    catch_up()
    done = run_job(ctx, "optimize", {"tables": ["silver.events"], "vacuum": True, "retain": "0h", "force": True})
    assert done.details[0]["vacuum_streams_checked"] == 1 and done.details[0]["vacuum_deleted"] >= 4
    assert spark.read.format("delta").load(out).count() == 1200


def test_liquid_clustering_from_the_flag(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path)
    path = ctx.settings.table("silver.products").path
    write_small_files(spark, path, batches=2)
    result = run_job(ctx, "optimize", {"tables": ["silver.products"], "cluster_by": ["customer_id", "price"], "analyze": True})
    d = result.details[0]
    assert d["statements"][0] == f"ALTER TABLE delta.`{path}` CLUSTER BY (`customer_id`, `price`)"
    assert spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["clusteringColumns"] == ["customer_id", "price"]
    assert d["files_after"] < d["files_before"]
    assert any("--analyze" in w and "Databricks-only" in w for w in result.warnings)


def test_an_explicit_zorder_does_only_that_and_a_zordered_file_is_not_rewritten(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path, {"silver.events": {"optimize": {"properties": {"delta.dataSkippingNumIndexedCols": "3"}}}})
    path = ctx.settings.table("silver.events").path
    write_small_files(spark, path, batches=2)

    first = run_job(ctx, "optimize", {"tables": ["silver.events"], "zorder": ["customer_id"]}).details[0]
    assert first["action"] == "optimized" and first["files_after"] == 1 and "properties_set" not in first
    props = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()["properties"]
    assert "delta.dataSkippingNumIndexedCols" not in props  # the policy's properties were not asked for
    optimized_at = version(spark, path)

    again = run_job(ctx, "optimize", {"tables": ["silver.events"], "zorder": ["customer_id"]})
    d = again.details[0]
    assert d["action"] == "unchanged" and "already Z-ordered by customer_id" in d["note"] and d["statements"] == []
    assert version(spark, path) == optimized_at and again.tables_written == []  # no commit, no rewrite

    other = run_job(ctx, "optimize", {"tables": ["silver.events"], "zorder": ["price"], "apply_policy": True}).details[0]
    assert other["action"] == "optimized" and other["properties_set"] == {"delta.dataSkippingNumIndexedCols": "3"}
    assert version(spark, path) > optimized_at


def test_missing_tables_skipped_when_implicit_and_an_error_when_named(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path, {"silver.events": {"optimize": {"bloom_filter_columns": ["customer_id"]}}})
    path = ctx.settings.table("silver.events").path
    write_small_files(spark, path, batches=1)
    result = run_job(ctx, "optimize", {})
    by_table = {d["table"]: d for d in result.details}
    assert by_table["silver.events"]["action"] == "optimized"
    assert by_table["gold.funnel_daily"] == {"table": "gold.funnel_daily", "action": "skipped", "note": "table does not exist yet"}
    assert result.metrics["tables"] == 1 and result.metrics["skipped"] == len(result.details) - 1
    assert not [w for w in result.warnings if "bloom filter" in w]  # not on every local run...
    planned = run_job(ctx, "optimize", {"tables": ["silver.events"], "dry_run": True})
    bloom = [w for w in planned.warnings if "bloom filter" in w]  # ...but when planning
    assert len(bloom) == 1 and "Databricks-only" in bloom[0] and "--zorder customer_id" in bloom[0]

    with pytest.raises(TableNotFound) as err:
        run_job(ctx, "optimize", {"tables": ["silver.nope"]})
    assert err.value.exit_code == 2 and err.value.hint

    with pytest.raises(UsageError, match="not in the table"):
        run_job(ctx, "optimize", {"tables": ["silver.events"], "zorder": ["no_such_col"]})


def test_bloom_filter_statement_on_a_databricks_target(spark, tmp_path):
    ctx = make_ctx(spark, tmp_path, {"silver.events": {"optimize": {"bloom_filter_columns": ["customer_id"]}}})
    path = ctx.settings.table("silver.events").path
    write_small_files(spark, path, batches=1)
    d = run_job(ctx, "optimize", {"tables": ["silver.events"], "dry_run": True, "databricks": True}).details[0]
    assert d["statements"][-1] == (
        f"CREATE BLOOMFILTER INDEX ON TABLE delta.`{path}` FOR COLUMNS(`customer_id` OPTIONS (fpp=0.1, numItems=50000000))"
    )


def test_hostile_identifiers_cannot_inject_sql(spark, tmp_path):
    hostile_path = "x`; DROP TABLE y; --"
    # Delta re-parses Z-order column names itself and rejects any backtick in them
    # (INVALID_ATTRIBUTE_NAME_SYNTAX), so the hostile column uses quotes, parentheses and semicolons.
    hostile = "x'); DROP TABLE y; --"
    victim = str(tmp_path / "y")
    spark.range(3).write.format("delta").save(victim)
    # a table whose path and column carry hostile text (column mapping allows any column name)
    ctx = make_ctx(spark, tmp_path, {"silver.events": {"path": str(tmp_path / hostile_path), "optimize": {"zorder_by": [hostile]}}})
    path = ctx.settings.table("silver.events").path
    spark.sql(
        f"CREATE TABLE delta.`{path.replace('`', '``')}` (id BIGINT, `{hostile}` STRING) USING delta "
        "TBLPROPERTIES ('delta.columnMapping.mode' = 'name', 'delta.minReaderVersion' = '2', 'delta.minWriterVersion' = '5')"
    )
    for i in range(3):
        spark.range(i * 10, i * 10 + 10).selectExpr("id", "cast(id as string) AS c").toDF("id", hostile).write.format("delta").mode(
            "append"
        ).save(path)
    d = run_job(ctx, "optimize", {"tables": ["silver.events"]}).details[0]
    assert d["zorder_by"] == [hostile] and d["files_after"] == 1 and d["files_removed"] == d["files_before"] > 1, d
    with pytest.raises(UsageError):
        run_job(ctx, "optimize", {"tables": ["silver.events"], "zorder": ["id`) ; DROP TABLE y; --"]})
    assert spark.read.format("delta").load(victim).count() == 3
    assert spark.read.format("delta").load(path).count() == 30


def test_cli_wiring_json_report_and_table_not_found(spark, tmp_path):
    from typer.testing import CliRunner

    from lakectl.cli.app import app

    config = tmp_path / "lakectl.yaml"
    config.write_text(f"storage:\n  root: {tmp_path / 'lake'}\ntables:\n  silver.events:\n    optimize:\n      zorder_by: [customer_id]\n")
    write_small_files(spark, str(tmp_path / "lake" / "tables" / "silver" / "events"), batches=1)
    runner = CliRunner()
    ok = runner.invoke(app, ["--config", str(config), "optimize", "silver.events", "--dry-run", "--json"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads(ok.stdout.strip().splitlines()[-1])
    assert doc["status"] == "dry_run" and doc["details"][0]["files_before"] == 2
    missing = runner.invoke(app, ["--config", str(config), "optimize", "silver.missing"])
    assert missing.exit_code == 2
    assert "lakectl: error: table silver.missing does not exist" in missing.stderr and "hint:" in missing.stderr
    assert "Traceback" not in missing.output
