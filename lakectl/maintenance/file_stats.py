"""What a table looks like on disk: sizes, the ideal file count, scan metrics."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

DEFAULT_TARGET_FILE_SIZE = 1024**3  # Delta's default spark.databricks.delta.optimize.maxFileSize


def ideal_files(size_bytes: int, target_bytes: int) -> int:
    return max(1, math.ceil(size_bytes / max(1, target_bytes)))


def files_read(df: DataFrame, plan_metrics: Literal["jvm", "connect"]) -> dict[str, int]:
    """Run `df` and sum its file-scan metrics ('number of files read', bytes) over the executed plan
    (AQE's final plan and query stages included), from where the engine has them (Capabilities.plan_metrics):
    the JVM on a classic session, the metrics the server sends back with the result
    (`DataFrame.executionInfo`) over Spark Connect."""
    df.collect()
    nodes = _connect_scan_metrics(df) if plan_metrics == "connect" else _jvm_scan_metrics(df)
    totals = {"files": 0, "bytes": 0}
    for metrics in nodes:
        if "numFiles" in metrics:
            totals["files"] += int(metrics["numFiles"])
            totals["bytes"] += int(metrics.get("filesSize") or 0)
    return totals


def _connect_scan_metrics(df: DataFrame) -> list[dict[str, int]]:
    info = df.executionInfo  # set by the action above; the server walks AQE stages as the JVM walk below does
    collected = info.metrics if info is not None else None
    if collected is None:
        raise RuntimeError("the Spark Connect server returned no plan metrics for the query")
    # every plan node once; the graph's node ids can collide (query stages report their stage id)
    return [{m.name: m.value for m in node.metrics} for node in collected._metrics]


def _jvm_scan_metrics(df: DataFrame) -> list[dict[str, int]]:
    plan = df._jdf.queryExecution().executedPlan()
    out = []
    stack = [plan]
    while stack:
        node = stack.pop()
        metrics = node.metrics()
        if metrics.contains("numFiles"):
            out.append({key: int(metrics.apply(key).value()) for key in ("numFiles", "filesSize") if metrics.contains(key)})
        children = node.children()
        stack.extend(children.apply(i) for i in range(children.size()))
        name = node.nodeName()
        if name == "AdaptiveSparkPlan":  # a leaf whose final plan holds the scans
            stack.append(node.executedPlan())
        elif name.endswith("QueryStage"):
            stack.append(node.plan())
    return out
