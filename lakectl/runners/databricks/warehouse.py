"""SQL on a Databricks SQL warehouse (Statement Execution API) instead of a job cluster.

`lakectl query` on a Databricks target with `warehouse_id` runs here: the same read-only check as
locally, tables resolved in the Unity Catalog `storage.catalog`, values bound as named parameters
(never formatted into the text), results read inline (JSON_ARRAY) and typed like a local query's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import ConfigError, Interrupted, JobFailed, LakectlError, SourceUnavailable, TableNotFound, UsageError
from lakectl.core.results import Result, Timer
from lakectl.engine.workspace import api_errors, workspace_client
from lakectl.config import DatabricksTarget, Settings

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"}
_INTEGER = {"BYTE", "SHORT", "INT", "LONG"}
_REAL = {"FLOAT", "DOUBLE", "DECIMAL"}
_COMPLEX = {"ARRAY", "MAP", "STRUCT"}  # JSON_ARRAY sends these as JSON text
_UNAVAILABLE = {"TEMPORARILY_UNAVAILABLE", "SERVICE_UNDER_MAINTENANCE", "WORKSPACE_TEMPORARILY_UNAVAILABLE",
                "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED"}
_NOT_FOUND = ("TABLE_OR_VIEW_NOT_FOUND", "DELTA_TABLE_NOT_FOUND", "DELTA_MISSING_DELTA_TABLE", "SCHEMA_NOT_FOUND")
_FAILED_JOB = {"INTERNAL_ERROR", "IO_ERROR", "UNKNOWN", "ABORTED"}


class StatementFailed(UsageError):
    """A statement the warehouse answered FAILED (HTTP 200): one line, the error class kept for callers."""

    def __init__(self, message: str, hint: str | None, *, error_code: str, sql_message: str) -> None:
        super().__init__(message, hint)
        self.error_code, self.sql_message = error_code, sql_message


def statement_error(state: str, error_code: str | None, message: str | None) -> LakectlError:
    """A FAILED / CANCELED / CLOSED statement as the lakectl error with the right exit code."""
    code = error_code or ""
    line = (message or state).strip().splitlines()[0][:300] if (message or state).strip() else state
    if state in ("CANCELED", "CLOSED"):
        return JobFailed(f"the statement was {state.lower()} on the SQL warehouse before it finished",
                         "someone (or the warehouse) cancelled it; run the command again")
    from lakectl.maintenance.compaction import CONFLICTS

    if any(name in line for name in CONFLICTS):  # another commit won: retryable, then a job failure
        return JobFailed(f"the statement lost a concurrent-commit conflict on the SQL warehouse: {line}",
                         "run it again when the concurrent writer is done")
    if any(name in line for name in _NOT_FOUND):
        return TableNotFound(f"the SQL warehouse cannot find the table: {line}",
                             "check storage.catalog and the table name, or run the stage that creates it first")
    if code in _UNAVAILABLE:
        return SourceUnavailable(f"the SQL warehouse is unavailable ({code}): {line}", "retry later")
    if code in _FAILED_JOB:
        return JobFailed(f"the statement failed on the SQL warehouse ({code}): {line}", "--verbose shows the trace")
    return StatementFailed(f"the SQL warehouse refused the statement: {line}", "check table and column names",
                           error_code=code, sql_message=line)


def run_query(settings: Settings, target: DatabricksTarget, params: dict[str, Any], timeout_s: float) -> Result:
    from lakectl.jobs.query import QueryParams
    from lakectl.lake.query import check_read_only, mentioned_tables
    from lakectl.engine.context import JobContext
    from lakectl.core.typed import parse_params

    p = parse_params(params, QueryParams)
    sql = check_read_only(p.sql)
    if not settings.storage.catalog:
        raise ConfigError("a SQL warehouse reads Unity Catalog tables: storage.catalog is not set",
                          "set storage.catalog in the config, or remove warehouse_id to run the query as a job")
    keys = mentioned_tables(JobContext(settings=settings), sql)
    w = workspace_client(target)
    with Timer() as t:
        columns, rows, truncated = execute(w, target, sql, catalog=settings.storage.catalog,
                                           row_limit=p.limit + 1 if p.limit else None, timeout_s=timeout_s)
    if p.limit and len(rows) > p.limit:
        rows, truncated = rows[: p.limit], True
    return Result(job="query", rows_read=len(rows), duration_s=t.seconds,
                  tables_read=[settings.table(k).display for k in keys],
                  metrics={"columns": [c for c, _ in columns], "rows": rows, "row_count": len(rows),
                           "truncated": truncated, "limit": p.limit, "warehouse_id": target.warehouse_id})


def execute(w: "WorkspaceClient", target: DatabricksTarget, statement: str, *, catalog: str | None = None,
            parameters: dict[str, Any] | None = None, row_limit: int | None = None,
            timeout_s: float = 600) -> tuple[list[tuple[str, str]], list[list[Any]], bool]:
    """Run one statement; (columns with their types, typed rows, truncated). Values in `parameters`
    are bound to `:name` markers in `statement`."""
    from databricks.sdk.service import sql

    assert target.warehouse_id
    bound = [sql.StatementParameterListItem(name=k, value=None if v is None else str(v), type=_sql_type(v))
             for k, v in (parameters or {}).items()]
    started = time.monotonic()
    statement_id = None
    try:
        with api_errors(target, "running the statement on the SQL warehouse"):
            resp = w.statement_execution.execute_statement(
                statement=statement, warehouse_id=target.warehouse_id, catalog=catalog, parameters=bound or None,
                row_limit=row_limit, wait_timeout="30s", on_wait_timeout=sql.ExecuteStatementRequestOnWaitTimeout.CONTINUE,
                format=sql.Format.JSON_ARRAY, disposition=sql.Disposition.INLINE)
            statement_id = resp.statement_id
            while resp.status is None or resp.status.state is None or resp.status.state.value not in TERMINAL:
                if time.monotonic() - started > timeout_s:
                    w.statement_execution.cancel_execution(statement_id)
                    raise JobFailed(f"the statement did not finish within {timeout_s:g} s and was cancelled",
                                    "raise --timeout")
                time.sleep(min(target.poll_interval_s, 2.0))
                resp = w.statement_execution.get_statement(statement_id)
    except KeyboardInterrupt:
        if statement_id:
            with api_errors(target, "cancelling the statement"):
                w.statement_execution.cancel_execution(statement_id)
        raise Interrupted("interrupted: cancelled the statement on the SQL warehouse") from None
    state = resp.status.state.value
    if state != "SUCCEEDED":
        error = resp.status.error
        code = error.error_code.value if error and error.error_code else None
        raise statement_error(state, code, error.message if error else None)
    columns = [(c.name or "", c.type_name.value if c.type_name else "STRING") for c in resp.manifest.schema.columns or []] \
        if resp.manifest and resp.manifest.schema else []
    data = _all_chunks(w, target, resp)
    rows = [[_typed(v, t) for v, (_, t) in zip(row, columns)] for row in data]
    truncated = bool(resp.manifest and resp.manifest.truncated)
    return columns, rows, truncated


def _all_chunks(w: "WorkspaceClient", target: DatabricksTarget, resp: Any) -> list[list[str | None]]:
    """The rows of every chunk: the first comes inline, the next ones by `next_chunk_index`."""
    chunk = resp.result
    data: list[list[str | None]] = list((chunk.data_array if chunk else None) or [])
    while chunk is not None and chunk.next_chunk_index is not None:
        with api_errors(target, f"reading result chunk {chunk.next_chunk_index}"):
            chunk = w.statement_execution.get_statement_result_chunk_n(resp.statement_id, chunk.next_chunk_index)
        data += chunk.data_array or []
    return data


def _sql_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "BIGINT"
    if isinstance(value, float):
        return "DOUBLE"
    return "STRING"


def _typed(value: str | None, type_name: str) -> Any:
    """JSON_ARRAY results are strings: give them the types a local query returns."""
    if value is None:
        return None
    if type_name in _INTEGER:
        return int(value)
    if type_name in _REAL:
        return float(value)
    if type_name == "BOOLEAN":
        return value.lower() == "true"
    if type_name in _COMPLEX:
        import json

        return json.loads(value)
    return value
