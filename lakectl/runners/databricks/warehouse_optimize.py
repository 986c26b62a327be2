"""`lakectl optimize` on a Databricks SQL warehouse: the maintenance statements as SQL, no job cluster.

The statements are the ones the local job builds (lakectl/maintenance/*, lakectl/core/sql.py); here they
run through the Statement Execution API, and the Databricks-only ones (bloom filter indexes,
ANALYZE ... COMPUTE DELTA STATISTICS) run for real. The maintenance statements (ALTER TABLE, OPTIMIZE,
VACUUM, DESCRIBE) have no value positions that accept parameter markers: names are quoted by
lakectl/core/sql.py, property values are quoted literals, the retention is a formatted number, and
`--where` is the user's SQL predicate, as locally. The Result has the local job's shape.

A warehouse cannot take per-statement session settings, so two local behaviours differ: a VACUUM
retention shorter than the table's is refused even with --force (Delta's retention check stays on),
and the target file size is a table property (delta.targetFileSize) rather than a session setting.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core import sql
from lakectl.core.errors import ConfigError, TableNotFound, UsageError
from lakectl.maintenance import compaction, properties, vacuum
from lakectl.maintenance.file_stats import DEFAULT_TARGET_FILE_SIZE, ideal_files
from lakectl.core.results import Result
from lakectl.engine.workspace import workspace_client
from lakectl.runners.databricks.warehouse import execute
from lakectl.config import DatabricksTarget, Settings

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from lakectl.jobs.optimize import OptimizeParams
    from lakectl.config import TableHandle


class Warehouse:
    """Statements on one warehouse, in one catalog; rows as dicts keyed by column name."""

    def __init__(self, w: "WorkspaceClient", target: DatabricksTarget, catalog: str, timeout_s: float) -> None:
        self.w, self.target, self.catalog, self.timeout_s = w, target, catalog, timeout_s

    def rows(self, statement: str) -> list[dict[str, Any]]:
        columns, rows, _ = execute(self.w, self.target, statement, catalog=self.catalog, timeout_s=self.timeout_s)
        return [dict(zip([c for c, _ in columns], row)) for row in rows]

    def columns(self, statement: str) -> list[str]:
        columns, _, _ = execute(self.w, self.target, statement, catalog=self.catalog, timeout_s=self.timeout_s)
        return [c for c, _ in columns]

    def detail(self, ref: str) -> dict[str, Any]:
        rows = self.rows(sql.describe_detail_sql(ref))
        return rows[0] if rows else {}


def run_optimize(settings: Settings, target: DatabricksTarget, params: dict[str, Any], timeout_s: float) -> Result:
    from lakectl.jobs.optimize import OptimizeParams, _check_columns, _retention, _target_size
    from lakectl.core.typed import parse_params

    p = parse_params(params, OptimizeParams)
    if p.zorder and p.cluster_by:
        raise UsageError("--zorder and --cluster-by cannot be combined", "liquid clustering replaces Z-order: pick one")
    if p.retain is not None and not p.vacuum:
        raise UsageError("--retain only applies with --vacuum", "add --vacuum")
    if p.advise:
        raise UsageError("--advise measures file skipping with local Spark reads and does not run on a SQL warehouse",
                         "run it as a job: use a target without warehouse_id")
    if not settings.storage.catalog:
        raise ConfigError("a SQL warehouse maintains Unity Catalog tables: storage.catalog is not set",
                          "set storage.catalog in the config, or remove warehouse_id to optimize as a job")
    wh = Warehouse(workspace_client(target), target, settings.storage.catalog, timeout_s)
    explicit = bool(p.tables)
    handles = [settings.table(k) for k in p.tables or settings.table_keys()]
    result = Result(job="optimize", dry_run=p.dry_run, status="dry_run" if p.dry_run else "ok")
    for handle in handles:
        started = time.perf_counter()
        try:
            before = wh.detail(handle.ref)
        except TableNotFound:
            if explicit:
                raise TableNotFound(f"table {handle.display} does not exist (looked at {handle.ref} on the SQL warehouse)",
                                    "check the name (schema.name, e.g. silver.events) or run the stage that creates it first") from None
            result.details.append({"table": handle.display, "action": "skipped", "note": "table does not exist yet"})
            continue
        report = _optimize_table(wh, settings, handle, p, before, _target_size(handle, p), result.warnings,
                                 check_columns=_check_columns, retention=_retention)
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


def _optimize_table(wh: Warehouse, settings: Settings, handle: "TableHandle", p: "OptimizeParams",
                    before: dict[str, Any], target: int | None, warnings: list[str], *, check_columns: Any,
                    retention: Any) -> dict[str, Any]:
    policy = handle.config.optimize
    cluster_by = p.cluster_by or ([] if p.zorder else policy.cluster_by)
    zorder_by = p.zorder or ([] if p.cluster_by else policy.zorder_by)
    columns = wh.columns(sql.columns_probe_sql(handle.ref))
    check_columns(handle, zorder_by, columns, "--zorder/zorder_by")
    check_columns(handle, cluster_by, columns, "--cluster-by/cluster_by")
    check_columns(handle, policy.bloom_filter_columns, columns, "bloom_filter_columns")
    current_props = before.get("properties") or {}
    retain, forced = retention(handle, p, before) if p.vacuum else (None, None)  # refuse before changing anything
    if forced:
        raise UsageError(f"{handle.display}: a VACUUM retention shorter than the table's cannot run on a SQL warehouse "
                         "(Delta's retention check cannot be turned off for one statement there, and lakectl never turns it off globally)",
                         "retain at least the table's delta.deletedFileRetentionDuration, or lower that property in the policy")
    if target:
        warnings.append(f"{handle.display}: the target file size is a session setting that a SQL warehouse does not take; "
                        "set the table property delta.targetFileSize in the policy's properties instead")
    statements: list[str] = []
    with_policy = p.apply_policy or not (p.zorder or p.cluster_by)  # as the local job: an explicit layout does only that
    prop_stmt = properties.properties_statement(handle.ref, policy.properties, current_props) if with_policy else None
    if prop_stmt:
        statements.append(prop_stmt)
    statements += compaction.optimize_statements(handle.ref, where=p.where, zorder_by=zorder_by, cluster_by=cluster_by,
                                                 current_clustering=before.get("clusteringColumns") or [])
    if p.analyze:
        statements.append(sql.analyze_sql(handle.ref))
    bloom = properties.bloom_filter_statement(handle.ref, policy.bloom_filter_columns)
    if bloom:
        statements.append(bloom)
    report: dict[str, Any] = {
        "table": handle.display,
        "action": "would optimize" if p.dry_run else "optimized",
        "files_before": int(before.get("numFiles") or 0),
        "bytes_before": int(before.get("sizeInBytes") or 0),
        "zorder_by": zorder_by,
        "cluster_by": cluster_by,
        "target_file_size": target or DEFAULT_TARGET_FILE_SIZE,
        "ideal_files": ideal_files(int(before.get("sizeInBytes") or 0), target or DEFAULT_TARGET_FILE_SIZE),
        "statements": statements,
    }
    if not p.dry_run:
        attempts = compaction.Attempts()
        metrics: dict[str, Any] = {}
        for text in statements:
            rows = compaction.with_retries(lambda text=text: wh.rows(text), attempts,
                                           max_attempts=p.max_attempts, backoff_s=p.backoff_s)
            if text.startswith("OPTIMIZE") and rows:
                metrics = rows[0].get("metrics") or {}
        after = wh.detail(handle.ref)
        report.update({
            "files_after": int(after.get("numFiles") or 0),
            "bytes_after": int(after.get("sizeInBytes") or 0),
            "files_removed": int(metrics.get("numFilesRemoved") or 0),
            "files_added": int(metrics.get("numFilesAdded") or 0),
            "conflicts_retried": attempts.retries,
            "conflicts": attempts.conflicts,
        })
        if attempts.retries:
            warnings.append(f"{handle.display}: OPTIMIZE retried after {attempts.retries} concurrent-commit conflict(s): {', '.join(attempts.conflicts)}")
        if prop_stmt:
            report["properties_set"] = properties.changed_properties(policy.properties, current_props)
    if p.vacuum:
        assert retain is not None
        report.update(_vacuum(wh, settings, handle, p, before, retain, warnings))
    return report


def _vacuum(wh: Warehouse, settings: Settings, handle: "TableHandle", p: "OptimizeParams", before: dict[str, Any],
            retain: float, warnings: list[str]) -> dict[str, Any]:
    location = str(before.get("location") or handle.path)
    candidates = [str(r.get("path")) for r in wh.rows(sql.vacuum_sql(handle.ref, retain_hours=retain, dry_run=True))]
    checkpoints = settings.storage.checkpoints_dir
    if not Path(checkpoints).exists():
        warnings.append(f"{handle.display}: streaming checkpoints ({checkpoints}) are not readable from this machine, so "
                        "VACUUM could not check which files running streams still need; retain at least their lag")
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
    if p.dry_run:
        from lakectl.jobs.optimize import MAX_LISTED_FILES

        out["vacuum_would_delete"] = len(candidates)
        out["vacuum_files"] = [vacuum.relative(location, f) for f in candidates[:MAX_LISTED_FILES]]
        return out
    wh.rows(sql.vacuum_sql(handle.ref, retain_hours=retain))
    last = wh.rows(sql.describe_history_sql(handle.ref, limit=1))
    if last and last[0].get("operation") == "VACUUM END":
        out["vacuum_deleted"] = int((last[0].get("operationMetrics") or {}).get("numDeletedFiles", 0))
    else:  # Delta logged no VACUUM END: the candidates that are gone (local paths), else all of them
        local = [f for f in candidates if f.startswith(("/", "file:"))]
        out["vacuum_deleted"] = (sum(1 for f in local if not Path(vacuum._local(f)).exists())
                                 if local and len(local) == len(candidates) else len(candidates))
    return out
