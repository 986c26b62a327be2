"""The Databricks SQL warehouse engine: statements through the Statement Execution API, no cluster.

Values are bound as named parameters (`:name`, never formatted into the text), results read inline
(JSON_ARRAY, chunk by chunk) and typed like a local query's. A statement the warehouse answers FAILED
(HTTP 200) becomes the lakectl error with the right exit code (`statement_error`). A warehouse takes no
per-statement Spark settings, and resolves table names in Unity Catalog (`catalog`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lakectl.config import DatabricksTarget
from lakectl.core import sql as sqltext
from lakectl.core.errors import DELTA_CONFLICTS, Interrupted, JobFailed, LakectlError, SourceUnavailable, TableNotFound, UsageError
from lakectl.engine.protocol import Capabilities, NoSessionSettings, Rows
from lakectl.engine.workspace import api_errors, workspace_client

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

    from lakectl.config import TableHandle

TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED", "CLOSED"}
_INTEGER = {"BYTE", "SHORT", "INT", "LONG"}
_REAL = {"FLOAT", "DOUBLE", "DECIMAL"}
_COMPLEX = {"ARRAY", "MAP", "STRUCT"}  # JSON_ARRAY sends these as JSON text
_UNAVAILABLE = {
    "TEMPORARILY_UNAVAILABLE",
    "SERVICE_UNDER_MAINTENANCE",
    "WORKSPACE_TEMPORARILY_UNAVAILABLE",
    "RESOURCE_EXHAUSTED",
    "DEADLINE_EXCEEDED",
}
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
        return JobFailed(
            f"the statement was {state.lower()} on the SQL warehouse before it finished",
            "someone (or the warehouse) cancelled it; run the command again",
        )
    if any(name in line for name in DELTA_CONFLICTS):  # another commit won: retryable, then a job failure
        return JobFailed(
            f"the statement lost a concurrent-commit conflict on the SQL warehouse: {line}",
            "run it again when the concurrent writer is done",
        )
    if any(name in line for name in _NOT_FOUND):
        return TableNotFound(
            f"the SQL warehouse cannot find the table: {line}",
            "check storage.catalog and the table name, or run the stage that creates it first",
        )
    if code in _UNAVAILABLE:
        return SourceUnavailable(f"the SQL warehouse is unavailable ({code}): {line}", "retry later")
    if code in _FAILED_JOB:
        return JobFailed(f"the statement failed on the SQL warehouse ({code}): {line}", "--verbose shows the trace")
    return StatementFailed(
        f"the SQL warehouse refused the statement: {line}", "check table and column names", error_code=code, sql_message=line
    )


class WarehouseEngine(NoSessionSettings):
    """Statements on the target's SQL warehouse, names resolved in `catalog`. The WorkspaceClient is made on
    the first statement (or handed in); `requests` counts the API calls made, for figures."""

    name = "warehouse"
    label = "a SQL warehouse"
    capabilities = Capabilities(writes=True, databricks_sql=True, catalog_names=True, system_lineage=True)

    def __init__(
        self, target: DatabricksTarget, *, catalog: str | None, timeout_s: float = 600.0, client: WorkspaceClient | None = None
    ) -> None:
        assert target.warehouse_id
        self.target, self.catalog, self.timeout_s = target, catalog, timeout_s
        self._client = client
        self._lock = threading.Lock()
        self.requests = 0

    @property
    def client(self) -> WorkspaceClient:
        with self._lock:
            if self._client is None:
                self._client = workspace_client(self.target)
            return self._client

    @property
    def labels(self) -> dict[str, Any]:
        return {"warehouse_id": self.target.warehouse_id}

    def rows(self, statement: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        columns, rows, _ = self.execute(statement, params)
        names = [c for c, _ in columns]
        return [dict(zip(names, row)) for row in rows]

    def query(
        self, statement: str, params: Mapping[str, Any] | None = None, *, limit: int | None = None, tables: Sequence[str] = ()
    ) -> Rows:
        """`tables` need nothing here: the warehouse resolves schema.name in the catalog."""
        columns, rows, truncated = self.execute(statement, params, row_limit=limit + 1 if limit else None)
        if limit and len(rows) > limit:
            rows, truncated = rows[:limit], True
        return Rows([c for c, _ in columns], list(rows), truncated)

    def detail(self, handle: TableHandle) -> dict[str, Any] | None:
        try:
            found = self.rows(sqltext.describe_detail_sql(handle.ref))
        except TableNotFound:
            return None
        return found[0] if found else {}

    def history(self, handle: TableHandle, limit: int | None = None) -> list[dict[str, Any]]:
        return self.rows(sqltext.describe_history_sql(handle.ref, limit=limit))

    def columns(self, handle: TableHandle) -> list[str]:
        return [c for c, _ in self.execute(sqltext.columns_probe_sql(handle.ref))[0]]

    def exists(self, handle: TableHandle) -> bool:
        return self.detail(handle) is not None

    def execute(
        self, statement: str, parameters: Mapping[str, Any] | None = None, *, row_limit: int | None = None
    ) -> tuple[list[tuple[str, str]], list[list[Any]], bool]:
        """Run one statement; (columns with their types, typed rows, truncated). Values in `parameters`
        are bound to `:name` markers in `statement`."""
        from databricks.sdk.service import sql

        target, w = self.target, self.client
        warehouse_id = target.warehouse_id
        assert warehouse_id, "a WarehouseEngine is made only for a target with warehouse_id"
        bound = [
            sql.StatementParameterListItem(name=k, value=None if v is None else str(v), type=_sql_type(v))
            for k, v in (parameters or {}).items()
        ]
        started = time.monotonic()
        statement_id: str | None = None
        try:
            with api_errors(target, "running the statement on the SQL warehouse"):
                self.requests += 1
                resp = w.statement_execution.execute_statement(
                    statement=statement,
                    warehouse_id=warehouse_id,
                    catalog=self.catalog,
                    parameters=bound or None,
                    row_limit=row_limit,
                    wait_timeout="30s",
                    on_wait_timeout=sql.ExecuteStatementRequestOnWaitTimeout.CONTINUE,
                    format=sql.Format.JSON_ARRAY,
                    disposition=sql.Disposition.INLINE,
                )
                statement_id = resp.statement_id or ""
                while resp.status is None or resp.status.state is None or resp.status.state.value not in TERMINAL:
                    if time.monotonic() - started > self.timeout_s:
                        self.requests += 1
                        w.statement_execution.cancel_execution(statement_id)
                        raise JobFailed(f"the statement did not finish within {self.timeout_s:g} s and was cancelled", "raise --timeout")
                    time.sleep(min(target.poll_interval_s, 2.0))
                    self.requests += 1
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
        columns = (
            [(c.name or "", c.type_name.value if c.type_name else "STRING") for c in resp.manifest.schema.columns or []]
            if resp.manifest and resp.manifest.schema
            else []
        )
        data = self._all_chunks(resp)
        rows = [[_typed(v, t) for v, (_, t) in zip(row, columns)] for row in data]
        truncated = bool(resp.manifest and resp.manifest.truncated)
        return columns, rows, truncated

    def _all_chunks(self, resp: Any) -> list[list[str | None]]:
        """The rows of every chunk: the first comes inline, the next ones by `next_chunk_index`."""
        chunk = resp.result
        data: list[list[str | None]] = list((chunk.data_array if chunk else None) or [])
        while chunk is not None and chunk.next_chunk_index is not None:
            with api_errors(self.target, f"reading result chunk {chunk.next_chunk_index}"):
                self.requests += 1
                chunk = self.client.statement_execution.get_statement_result_chunk_n(resp.statement_id, chunk.next_chunk_index)
            data += [list(row) for row in chunk.data_array or []]
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
        return json.loads(value)
    return value
