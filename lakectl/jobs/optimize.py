"""optimize: compact, Z-order or cluster, set table properties and VACUUM each table by its policy.

With no table named, every configured table (and every default table that exists) is optimized
by its `optimize` policy; tables that do not exist yet are skipped with a note.

Written once for every engine (`ctx.engine`): local Spark, Spark Connect, a Databricks runtime, or the
target's SQL warehouse. Where they differ the capabilities decide: Databricks-only statements (bloom
filter indexes, ANALYZE ... COMPUTE DELTA STATISTICS) run where `databricks_sql`; a forced short VACUUM
retention and the target file size need `session_settings`; `--advise` needs `plan_metrics`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lakectl.core import sql
from lakectl.core.errors import TableNotFound, UsageError
from lakectl.core.faults import kill_point
from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.core.units import parse_size
from lakectl.engine.context import JobContext
from lakectl.jobs.params import OptimizeParams
from lakectl.lake.checkpoints import stage_lock
from lakectl.maintenance import advisor, compaction, properties, vacuum
from lakectl.maintenance.file_stats import DEFAULT_TARGET_FILE_SIZE, ideal_files

if TYPE_CHECKING:
    from lakectl.config import TableHandle
    from lakectl.engine.protocol import SqlEngine

MAX_LISTED_FILES = 20


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, OptimizeParams)
    if p.zorder and p.cluster_by:
        raise UsageError("--zorder and --cluster-by cannot be combined", "liquid clustering replaces Z-order: pick one")
    if p.retain is not None and not p.vacuum:
        raise UsageError("--retain only applies with --vacuum", "add --vacuum")
    engine = ctx.engine
    if p.advise and not engine.capabilities.plan_metrics:
        raise UsageError(
            f"--advise measures file skipping with local Spark reads and does not run on {engine.label}",
            "run it as a job: use a target without warehouse_id",
        )
    if p.dry_run and not p.advise:
        planned = _plan_from_log(ctx, p)
        if planned is not None:
            return planned
    # read-only runs take no lock; the lock lives with the checkpoints, which only an engine sharing them sees
    if p.dry_run or p.advise or not engine.capabilities.local_files:
        return _run(ctx, engine, p)
    with stage_lock(ctx.settings.storage.checkpoints_dir, "optimize"):
        return _run(ctx, engine, p)


def _plan_from_log(ctx: JobContext, p: OptimizeParams) -> Result | None:
    """The dry run's plan from the Delta logs (delta-rs, no JVM) when the tables are local paths the engine shares;
    None when delta-rs cannot answer for a table (then the engine plans, as before)."""
    from lakectl.engine.duck import NotForDuckDB
    from lakectl.engine.log_planner import LogPlanner
    from lakectl.lake.preflight import checkable

    if ctx.settings.spark_catalog or not all(checkable(ctx.settings.table(k)) for k in p.tables or ctx.settings.table_keys()):
        return None
    real = ctx.engine.capabilities
    if not real.local_files:  # the engine's paths are not this machine's files: it plans
        return None
    try:
        result = _run(ctx, LogPlanner(ctx.settings, real), p)
    except NotForDuckDB:
        return None
    result.metrics["planned_from"] = "the Delta logs (no Spark started)"
    return result


def _run(ctx: JobContext, engine: SqlEngine, p: OptimizeParams) -> Result:
    _preflight(ctx, p)  # names, columns and retention from the Delta log, before the JVM starts
    explicit = bool(p.tables)
    keys = p.tables or ctx.settings.table_keys()
    handles = [ctx.settings.table(k) for k in keys]
    result = Result(job="optimize", dry_run=p.dry_run, status="dry_run" if p.dry_run else "ok")
    for handle in handles:
        started = time.perf_counter()
        before = engine.detail(handle)
        if before is None:
            if explicit:
                raise TableNotFound(
                    f"table {handle.display} does not exist (looked at {handle.ref if handle.spark_catalog else handle.path})",
                    "check the name (schema.name, e.g. silver.events) or run the stage that creates it first",
                )
            result.details.append({"table": handle.display, "action": "skipped", "note": "table does not exist yet"})
            continue
        if p.advise:
            report = _advise(ctx, engine, handle, p, before)
        else:
            report = _optimize_table(ctx, engine, handle, p, before, result.warnings)
        report["duration_s"] = round(time.perf_counter() - started, 3)
        result.details.append(report)
        if report.get("action") in ("optimized", "would optimize"):
            result.tables_written.append(handle.display)
        result.tables_read.append(handle.display)
    done = [d for d in result.details if d.get("action") != "skipped"]
    result.metrics = {
        "tables": len(done),
        "skipped": len(result.details) - len(done),
        "files_before": sum(d.get("files_before", 0) for d in done),
        "files_after": sum(d.get("files_after", 0) for d in done),
        "vacuum_deleted": sum(d.get("vacuum_deleted", 0) for d in done),
        "conflicts_retried": sum(d.get("conflicts_retried", 0) for d in done),
    }
    return result


def _preflight(ctx: JobContext, p: OptimizeParams) -> None:
    from lakectl.lake import preflight

    for key in p.tables:
        handle = preflight.require_table(ctx.settings, key)
        if not preflight.checkable(handle):
            continue
        from deltalake import DeltaTable

        table = DeltaTable(handle.path)
        existing = [f.name for f in table.schema().fields]
        meta = table.metadata()
        preflight.require_columns(handle, p.zorder, existing, "--zorder")
        preflight.require_columns(handle, p.cluster_by, existing, "--cluster-by")
        if p.where:
            preflight.check_partition_predicate(handle, p.where, existing, list(meta.partition_columns))
        if p.vacuum:
            _retention(handle, p, {"properties": dict(meta.configuration)})


def _check_columns(handle: TableHandle, wanted: list[str], existing: list[str], what: str) -> None:
    unknown = [c for c in wanted if c not in existing]
    if unknown:
        raise UsageError(
            f"{handle.display}: {what} column(s) not in the table: {', '.join(repr(c) for c in unknown)}",
            f"choose from: {', '.join(existing)}",
        )


def _target_size(handle: TableHandle, p: OptimizeParams) -> int | None:
    return parse_size(p.target_file_size or handle.config.optimize.target_file_size)


def _optimize_table(
    ctx: JobContext, engine: SqlEngine, handle: TableHandle, p: OptimizeParams, before: dict[str, Any], warnings: list[str]
) -> dict[str, Any]:
    caps = engine.capabilities
    databricks_sql = caps.databricks_sql if p.databricks is None else p.databricks
    policy = handle.config.optimize
    cluster_by = p.cluster_by or ([] if p.zorder else policy.cluster_by)
    zorder_by = p.zorder or ([] if p.cluster_by else policy.zorder_by)
    columns = engine.columns(handle)
    _check_columns(handle, zorder_by, columns, "--zorder/zorder_by")
    _check_columns(handle, cluster_by, columns, "--cluster-by/cluster_by")
    _check_columns(handle, policy.bloom_filter_columns, columns, "bloom_filter_columns")
    target = _target_size(handle, p)
    retain, forced = _retention(handle, p, before) if p.vacuum else (None, None)  # refuse before changing anything
    if forced and not caps.session_settings:
        raise UsageError(
            f"{handle.display}: a VACUUM retention shorter than the table's cannot run on {engine.label} "
            "(Delta's retention check cannot be turned off for one statement there, and lakectl never turns it off globally)",
            "retain at least the table's delta.deletedFileRetentionDuration, or lower that property in the policy",
        )
    if target and not caps.session_settings:
        warnings.append(
            f"{handle.display}: the target file size is a session setting that {engine.label} does not take; "
            "set the table property delta.targetFileSize in the policy's properties instead"
        )
    statements: list[str] = []
    # An explicit --zorder/--cluster-by does that and only that; the policy's properties come with a
    # policy run (no explicit layout) or when asked (--apply-policy).
    with_policy = p.apply_policy or not (p.zorder or p.cluster_by)
    prop_stmt = properties.properties_statement(handle.ref, policy.properties, before.get("properties") or {}) if with_policy else None
    if prop_stmt:
        statements.append(prop_stmt)
    unchanged = _already_zordered(engine, handle, zorder_by, before) if zorder_by and not p.where else None
    if unchanged is None:
        statements += compaction.optimize_statements(
            handle.ref,
            where=p.where,
            zorder_by=zorder_by,
            cluster_by=cluster_by,
            current_clustering=before.get("clusteringColumns") or [],
        )
    if p.analyze:
        if databricks_sql:
            statements.append(sql.analyze_sql(handle.ref))
        else:  # Delta OSS 4.4's parser has no ANALYZE ... COMPUTE DELTA STATISTICS
            warnings.append(
                f"{handle.display}: --analyze (ANALYZE TABLE ... COMPUTE DELTA STATISTICS) is Databricks-only; "
                "here the files OPTIMIZE rewrites get fresh data-skipping statistics"
            )
    if policy.bloom_filter_columns:
        if databricks_sql:
            statements.append(properties.bloom_filter_statement(handle.ref, policy.bloom_filter_columns))  # type: ignore[arg-type]
        elif p.dry_run:  # said when planning, not on every local run of a policy written for Databricks too
            warnings.append(properties.bloom_filter_note(handle.display, policy.bloom_filter_columns))
    report: dict[str, Any] = {
        "table": handle.display,
        "action": "unchanged" if unchanged and not prop_stmt else "would optimize" if p.dry_run else "optimized",
        "files_before": int(before.get("numFiles") or 0),
        "bytes_before": int(before.get("sizeInBytes") or 0),
        "zorder_by": zorder_by,
        "cluster_by": cluster_by,
        "target_file_size": target or DEFAULT_TARGET_FILE_SIZE,
        "ideal_files": ideal_files(int(before.get("sizeInBytes") or 0), target or DEFAULT_TARGET_FILE_SIZE),
        "statements": statements,
    }
    if unchanged:
        report["note"] = unchanged
    if unchanged and not statements:
        report.update({"files_after": report["files_before"], "bytes_after": report["bytes_before"], "files_removed": 0, "files_added": 0})
    elif not p.dry_run:
        attempts = compaction.Attempts()
        metrics = compaction.run_optimize(
            engine,
            statements,
            target_file_size=target if caps.session_settings else None,
            attempts=attempts,
            max_attempts=p.max_attempts,
            backoff_s=p.backoff_s,
        )
        kill_point("optimize.after_optimize")  # committed; report, properties and VACUUM still to come
        after = engine.detail(handle) or {}
        report.update(
            {
                "files_after": int(after.get("numFiles") or 0),
                "bytes_after": int(after.get("sizeInBytes") or 0),
                "files_removed": int(metrics.get("numFilesRemoved") or 0),
                "files_added": int(metrics.get("numFilesAdded") or 0),
                "conflicts_retried": attempts.retries,
                "conflicts": attempts.conflicts,
            }
        )
        if attempts.retries:
            warnings.append(
                f"{handle.display}: OPTIMIZE retried after {attempts.retries} concurrent-commit conflict(s): {', '.join(attempts.conflicts)}"
            )
        if prop_stmt:
            report["properties_set"] = properties.changed_properties(policy.properties, before.get("properties") or {})
    if p.vacuum:
        report.update(_vacuum(ctx, engine, handle, p, before, retain, forced, warnings))  # type: ignore[arg-type]
    return report


def _already_zordered(engine: SqlEngine, handle: TableHandle, zorder_by: list[str], before: dict[str, Any]) -> str | None:
    """Why Z-ordering again would rewrite a table for nothing: it is one file whose last commit was
    OPTIMIZE ZORDER BY the same columns (Delta rewrites even a single file on every ZORDER)."""
    if int(before.get("numFiles") or 0) != 1 or handle.spark_catalog:
        return None
    import json

    last = engine.history(handle, 1)
    row = last[0] if last else None
    if row is None or row.get("operation") != "OPTIMIZE":
        return None
    try:
        done = json.loads((row.get("operationParameters") or {}).get("zOrderBy") or "[]")
    except ValueError:
        return None
    if [c.lower() for c in done] == [c.lower() for c in zorder_by]:
        return f"already Z-ordered by {', '.join(zorder_by)} in one file (version {row['version']}): not rewritten"
    return None


def _retention(handle: TableHandle, p: OptimizeParams, before: dict[str, Any]) -> tuple[float, str | None]:
    """The VACUUM retention in hours (flag, else policy, else the table's), and the --force warning if short."""
    props = before.get("properties") or {}
    retain = vacuum.parse_hours(p.retain)
    if retain is None:
        retain = handle.config.optimize.vacuum_retain_hours
    if retain is None:
        retain = vacuum.table_retention_hours(props)
    return retain, vacuum.check_retention(retain, props, force=p.force, table=handle.display)


def _vacuum(
    ctx: JobContext,
    engine: SqlEngine,
    handle: TableHandle,
    p: OptimizeParams,
    before: dict[str, Any],
    retain: float,
    forced: str | None,
    warnings: list[str],
) -> dict[str, Any]:
    if forced:
        warnings.append(forced)
    # only reachable with --force: Delta's own check must be off for this one statement
    short = retain < vacuum.table_retention_hours(before.get("properties") or {})
    location = str(before.get("location") or handle.path)
    candidates = vacuum.dry_run_files(engine, handle, retain, short=short)
    checkpoints = ctx.settings.storage.checkpoints_dir
    if not engine.capabilities.local_files and not checkpoints.exists():
        warnings.append(
            f"{handle.display}: streaming checkpoints ({checkpoints}) are not readable from this machine, so "
            "VACUUM could not check which files running streams still need; retain at least their lag"
        )
    readers = vacuum.streams_reading(checkpoints, str(before.get("id")))
    for reader in readers:
        needed = vacuum.files_needed_from(location, reader.version, reader.snapshot)
        clash = [f for f in candidates if vacuum.relative(location, f) in needed]
        if clash:
            raise UsageError(
                f"{handle.display}: VACUUM RETAIN {retain:g}h would delete {len(clash):,} file(s) that the stream with "
                f"checkpoint {reader.checkpoint} still needs (it reads from table version {reader.version})",
                "let the stream catch up (or stop it and remove its checkpoint if it is abandoned), or retain longer",
            )
    out: dict[str, Any] = {"vacuum_retain_hours": retain, "vacuum_streams_checked": len(readers)}
    if forced:
        out["vacuum_forced"] = True
    if p.dry_run:
        out["vacuum_would_delete"] = len(candidates)
        out["vacuum_files"] = [vacuum.relative(location, f) for f in candidates[:MAX_LISTED_FILES]]
    else:
        out["vacuum_deleted"] = vacuum.vacuum(engine, handle, retain, short=short, candidates=candidates)
    return out


def _advise(ctx: JobContext, engine: SqlEngine, handle: TableHandle, p: OptimizeParams, before: dict[str, Any]) -> dict[str, Any]:
    assert engine.capabilities.plan_metrics  # run() refuses --advise elsewhere
    target = _target_size(handle, p) or DEFAULT_TARGET_FILE_SIZE
    scratch = ctx.settings.storage.root_dir / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    advice = advisor.advise(
        ctx.spark,
        handle.ref,
        size_bytes=int(before.get("sizeInBytes") or 0),
        num_files=int(before.get("numFiles") or 0),
        target_bytes=target,
        predicates=list(handle.config.optimize.predicates),
        scratch=scratch,
        plan_metrics=engine.capabilities.plan_metrics,
    )
    return {
        "table": handle.display,
        "action": "advised",
        "files_before": int(before.get("numFiles") or 0),
        "bytes_before": int(before.get("sizeInBytes") or 0),
        "target_file_size": target,
        **advice,
    }
