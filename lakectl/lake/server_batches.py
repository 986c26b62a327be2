"""Batch functions that run on a Spark Connect server: their figures come back to the client through
ops.batch_figures, and their lakectl errors (kind, message, hint) inside the server's error text."""

from __future__ import annotations

import json
from typing import Any

FIGURES_TABLE = "ops.batch_figures"
FIGURES_SCHEMA = "job string, run_id string, batch_id long, figures string, recorded_at timestamp"
_CARRIED = "[lakectl-error]"


class BatchFigures:
    """Over Spark Connect a foreachBatch function runs in a Python process on the server, so what it
    counts never reaches the client's objects. Each batch appends its figures (JSON) to
    ops.batch_figures keyed by job, run id and batch id, and the client reads them back after the
    query. Local sessions never use this: their batch functions update the job's objects directly.
    Holds only strings, as it travels to the server with the batch function."""

    def __init__(self, ctx: Any, job: str) -> None:
        from lakectl.lake import delta

        handle = ctx.settings.table(FIGURES_TABLE)
        self.job, self.run_id, self.path = job, ctx.run_id, handle.path
        delta.ensure_table(ctx.spark, handle, FIGURES_SCHEMA, props={"delta.checkpointInterval": "10"})

    def record(self, spark: Any, batch_id: int, figures: str) -> None:
        from pyspark.sql import functions as F

        row = spark.createDataFrame(
            [(self.job, self.run_id, int(batch_id), figures)], "job string, run_id string, batch_id long, figures string"
        )
        row.withColumn("recorded_at", F.current_timestamp()).write.format("delta").mode("append").save(self.path)

    def collect(self, spark: Any) -> list[str]:
        """This run's figures, one per batch (the last one recorded for a batch id), in batch order."""
        found = self.collect_ids(spark, None)
        return [found[b] for b in sorted(found)]

    def collect_ids(self, spark: Any, batch_ids: list[int] | None) -> dict[int, str]:
        """batch id -> this run's figures for those batches (all when None), the last recorded per id.
        A table the client can reach on its own disk is read with delta-rs (no Spark query per batch
        while a stream runs); else through the session."""
        rows = self._rows_local(batch_ids)
        if rows is None:
            from pyspark.sql import functions as F

            cond = (F.col("job") == self.job) & (F.col("run_id") == self.run_id)
            if batch_ids is not None:
                cond = cond & F.col("batch_id").isin(*[int(b) for b in batch_ids])
            rows = [
                r.asDict()
                for r in spark.read.format("delta").load(self.path).where(cond).select("batch_id", "figures", "recorded_at").collect()
            ]
        latest: dict[int, Any] = {}
        for r in rows:
            b = int(r["batch_id"])
            if b not in latest or r["recorded_at"] >= latest[b]["recorded_at"]:
                latest[b] = r
        return {b: latest[b]["figures"] for b in latest}

    def _rows_local(self, batch_ids: list[int] | None) -> list[dict[str, Any]] | None:
        from lakectl.lake.deltars import open_local_table

        table = open_local_table(self.path)
        if table is None:
            return None
        from deltalake import QueryBuilder

        from lakectl.core.sql import quote_ansi_string
        from lakectl.lake.deltars import arrow

        where = f"job = {quote_ansi_string(self.job)} AND run_id = {quote_ansi_string(self.run_id)}"
        if batch_ids is not None:
            where += f" AND batch_id IN ({', '.join(str(int(b)) for b in batch_ids) or 'NULL'})"
        try:
            query = QueryBuilder().register("f", table).execute(f"SELECT batch_id, figures, recorded_at FROM f WHERE {where}")
            return arrow(query).to_pylist()
        except Exception:  # a log feature delta-rs cannot read: the session reads it
            return None


def carry_error(exc: Exception) -> RuntimeError:
    """A lakectl error raised in a batch function on a Connect server, wrapped so that its kind,
    message and hint survive the trip to the client inside the server's error text."""
    from lakectl.core.errors import LakectlError

    hint = exc.hint if isinstance(exc, LakectlError) else None
    message = exc.message if isinstance(exc, LakectlError) else str(exc)
    payload = json.dumps({"kind": type(exc).__name__, "message": message, "hint": hint})
    return RuntimeError(f"{_CARRIED}{payload}{_CARRIED}")


def recover_error(exc: BaseException) -> Exception | None:
    """The lakectl error `carry_error` wrapped, found in a streaming failure's text (None if absent)."""
    import re

    from lakectl.core import errors

    cause: BaseException | None = exc
    while cause is not None:
        found = re.search(re.escape(_CARRIED) + r"(\{.*?\})" + re.escape(_CARRIED), str(cause), re.S)
        if found:
            try:
                data = json.loads(found.group(1))
            except ValueError:
                return None
            kind = getattr(errors, str(data.get("kind")), None)
            if not (isinstance(kind, type) and issubclass(kind, errors.LakectlError)):
                kind = errors.JobFailed
            return kind(str(data.get("message")), data.get("hint"))
        cause = cause.__cause__ or cause.__context__
    return None
