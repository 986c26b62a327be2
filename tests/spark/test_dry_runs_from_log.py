"""optimize --dry-run (with --vacuum too) plans from the Delta logs with delta-rs: no pyspark imported, and the
figures Spark gives for the same table (DESCRIBE DETAIL, VACUUM ... DRY RUN)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.spark


def test_optimize_and_vacuum_dry_runs_match_spark_without_a_jvm(ctx):
    from no_jvm import config_for, lakectl

    from lakectl.maintenance.vacuum import dry_run_files, relative

    spark = ctx.spark
    handle = ctx.settings.table("bronze.events")
    path = handle.path
    props = "'delta.enableDeletionVectors' = 'false', 'delta.enableChangeDataFeed' = 'true'"
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, kind STRING) USING delta TBLPROPERTIES ({props})")
    for b in range(3):
        spark.range(b * 300, (b + 1) * 300).selectExpr("id", "CAST(id % 7 AS STRING) AS kind").repartition(2).write.format("delta").mode(
            "append"
        ).save(path)
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id % 10 = 0")  # rewritten files (tombstones), change data files
    spark.sql(f"UPDATE delta.`{path}` SET kind = 'x' WHERE id < 50")
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{path}`").first()
    spark_candidates = dry_run_files(ctx.engine, handle, 0.0, short=True)  # Spark's VACUUM ... DRY RUN
    assert len(spark_candidates) > 4, "DELETE and UPDATE left files for VACUUM"

    config = config_for(ctx.settings.storage.root_dir)
    run = lakectl("optimize", "bronze.events", "--vacuum", "--retain", "0h", "--force", "--dry-run", "--json", config=config)
    assert run.returncode == 0 and not run.pyspark, run.stderr
    doc = run.json()
    d = doc["details"][0]
    assert doc["status"] == "dry_run" and doc["planned_from"].startswith("the Delta logs") and d["action"] == "would optimize"
    assert (d["files_before"], d["bytes_before"]) == (detail["numFiles"], detail["sizeInBytes"])
    assert d["vacuum_would_delete"] == len(spark_candidates)
    assert sorted(d["vacuum_files"]) == sorted(relative(path, f) for f in spark_candidates)[: len(d["vacuum_files"])]
    assert d["statements"] and d["statements"][0].startswith("OPTIMIZE")

    everything = lakectl("optimize", "--dry-run", "--json", config=config)  # every configured table
    assert everything.returncode == 0 and not everything.pyspark, everything.stderr
    actions = {x["table"]: x["action"] for x in everything.json()["details"]}
    assert actions["bronze.events"] == "would optimize" and actions["gold.kpi_hourly"] == "skipped"


def test_column_types_from_the_log_read_as_spark_writes_them(ctx):
    """transform's dry run finds schema drift from bronze's log: each type as Spark's simpleString would say it."""
    from lakectl.lake.pending import spark_type_names

    path = ctx.settings.table("bronze.events").path
    columns = (
        "CAST(1 AS BIGINT) AS a, CAST(1 AS INT) AS b, CAST(1 AS SMALLINT) AS c, CAST(1 AS TINYINT) AS d, 1.5D AS e, "
        "CAST(1.5 AS DECIMAL(10,2)) AS f, 'x' AS g, true AS h, current_timestamp() AS i, current_date() AS j, "
        "map('k', 'v') AS k, array(1, 2) AS l, named_struct('x', 1, 'y', array('z')) AS m, CAST(NULL AS BINARY) AS n"
    )
    df = ctx.spark.sql(f"SELECT {columns}")
    df.write.format("delta").save(path)
    assert spark_type_names(path) == {f.name: f.dataType.simpleString() for f in df.schema.fields}


def test_a_table_with_deletion_vector_files_is_planned_by_spark(ctx):
    """delta-rs' VACUUM lists every deletion-vector file, in use or not: such a table's plan falls back to Spark."""
    from lakectl.engine.duck import NotForDuckDB
    from lakectl.engine.log_planner import LogPlanner
    from lakectl.jobs import run_job
    from lakectl.maintenance.vacuum import dry_run_files

    handle = ctx.settings.table("silver.events")
    ctx.spark.range(200).selectExpr("id").repartition(2).write.format("delta").option("delta.enableDeletionVectors", "true").save(
        handle.path
    )
    ctx.spark.sql(f"DELETE FROM delta.`{handle.path}` WHERE id % 10 = 0")
    with pytest.raises(NotForDuckDB, match="deletion vectors"):
        LogPlanner(ctx.settings, ctx.engine.capabilities).vacuum_candidates(handle, 0)
    plan = run_job(ctx, "optimize", {"tables": ["silver.events"], "vacuum": True, "retain": "0h", "force": True, "dry_run": True})
    assert "planned_from" not in plan.metrics  # Spark planned it
    assert plan.details[0]["vacuum_would_delete"] == len(dry_run_files(ctx.engine, handle, 0.0, short=True))
