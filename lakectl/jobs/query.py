"""query: run one read-only SQL statement against the lakehouse and return its rows.

Tables are addressed by their logical names (`gold.kpi_hourly`, `silver.events`, ...): each configured
table the statement mentions is registered as a view of that name, so BI-style SQL works unchanged.
Anything but SELECT / WITH / SHOW / DESCRIBE / EXPLAIN is refused before Spark starts (exit 2), and so
is a table name that does not exist (with a "did you mean").

Engine: SELECT / WITH over local tables on a local target runs on DuckDB over delta-rs (about a second,
no JVM); anything else, or `--engine spark`, runs on the context's engine: Spark, or on a Databricks
target with `warehouse_id` the SQL warehouse (names resolved in storage.catalog). A statement DuckDB
cannot parse or bind (Spark-only syntax or functions) falls back to Spark with a warning; see docs/query.md.
"""

from __future__ import annotations

from typing import Any

from lakectl.core.results import Result
from lakectl.core.typed import parse_params
from lakectl.engine.context import JobContext
from lakectl.jobs.params import QueryParams
from lakectl.lake.query import plain, read_only


def run(ctx: JobContext, params: dict[str, Any]) -> Result:
    p = parse_params(params, QueryParams)
    answer = read_only(ctx, p.sql, limit=p.limit, engine=p.engine)
    return Result(
        job="query",
        rows_read=len(answer.rows),
        tables_read=[ctx.settings.table(k).display for k in answer.tables],
        warnings=answer.warnings,
        metrics={
            "columns": answer.columns,
            "rows": [[plain(v) for v in r] for r in answer.rows],
            "row_count": len(answer.rows),
            "truncated": answer.truncated,
            "limit": p.limit,
            **answer.labels,
        },
    )
