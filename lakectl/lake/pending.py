"""What a stage would read, decided from Delta logs and stream checkpoints on local paths, without Spark.

Each answer is certain or None: None (a remote path, a log cleaned of the commits in question, a checkpoint with
a batch in flight, an offset in the middle of a version) means "ask Spark", as ingest's pre-check does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

END_INDEX = 2**63 - 1  # a Delta source offset past every file of its version
ROW_WRITES = ("WRITE", "STREAMING UPDATE", "CREATE TABLE AS SELECT")  # what appends rows a stream reads


def local_log(path: str) -> Path | None:
    """The _delta_log folder of a local table path, or None for a remote one (it may not exist yet)."""
    return None if "://" in path else Path(path) / "_delta_log"


def latest_version(path: str) -> int | None:
    """The table's latest version from its log listing (-1: no table), or None for a remote path."""
    log = local_log(path)
    if log is None:
        return None
    versions = [int(f.name[:20]) for f in log.glob("*.json") if f.name[:20].isdigit()] if log.is_dir() else []
    return max(versions, default=-1)


def commits(path: str, start: int) -> list[dict[str, Any]] | None:
    """Every commit from version `start` on: {version, operation, operationMetrics, userMetadata, data_added}
    (data_added: an `add` action that changes data). None when a commit in that range is not in the log any
    more (log retention) or a remote path."""
    log = local_log(path)
    latest = latest_version(path)
    if log is None or latest is None:
        return None
    out = []
    for version in range(max(start, 0), latest + 1):
        try:
            lines = (log / f"{version:020d}.json").read_text().splitlines()
        except OSError:
            return None
        entry: dict[str, Any] = {"version": version, "operation": None, "operationMetrics": {}, "userMetadata": None, "data_added": False}
        for line in lines:
            action = json.loads(line) if line.strip() else {}
            if "commitInfo" in action:
                info = action["commitInfo"]
                entry.update(
                    operation=info.get("operation"),
                    operationMetrics=info.get("operationMetrics") or {},
                    userMetadata=info.get("userMetadata"),
                )
            elif "add" in action and action["add"].get("dataChange", True):
                entry["data_added"] = True
        out.append(entry)
    return out


def rows_written(found: list[dict[str, Any]]) -> int:
    """Rows the commits wrote (their operationMetrics), as a stream reading them would see."""

    def rows(metrics: dict[str, Any]) -> int:  # Spark's name, then delta-rs'
        return int(metrics.get("numOutputRows") or metrics.get("num_added_rows") or 0)

    return sum(rows(c["operationMetrics"]) for c in found if c["operation"] in ROW_WRITES)


def stream_next_version(spark_checkpoint: Path) -> int | None:
    """The table version a Delta-source stream reads next, from its last offsets when that batch is committed;
    None when unsure (no checkpoint, a batch in flight, an offset inside a version or at a starting snapshot)."""
    offsets, done = spark_checkpoint / "offsets", spark_checkpoint / "commits"
    batches = sorted(int(f.name) for f in offsets.iterdir() if f.name.isdigit()) if offsets.is_dir() else []
    if not batches or not (done / str(batches[-1])).exists():
        return None
    try:
        sources = [json.loads(line) for line in (offsets / str(batches[-1])).read_text().splitlines()[2:] if line.strip()]
    except (OSError, ValueError):
        return None
    if len(sources) != 1 or not isinstance(sources[0], dict) or sources[0].get("isStartingVersion"):
        return None
    try:
        version, index = int(sources[0]["reservoirVersion"]), int(sources[0]["index"])
    except (KeyError, TypeError, ValueError):
        return None
    if index == -1:
        return version  # nothing of `version` read yet
    return version + 1 if index == END_INDEX else None


def stream_pending_rows(path: str, spark_checkpoint: Path | None) -> int | None:
    """Rows committed to the table at `path` that the stream with this checkpoint has not read (all of the
    table's rows when `spark_checkpoint` is None); None when unsure."""
    start = 0 if spark_checkpoint is None else stream_next_version(spark_checkpoint)
    if start is None:
        return None
    found = commits(path, start)
    return None if found is None else rows_written(found)


def stream_caught_up(path: str, spark_checkpoint: Path) -> bool:
    """True only when it is certain that the stream would read nothing: no commit that adds data since its
    last committed offsets."""
    start = stream_next_version(spark_checkpoint)
    found = commits(path, start) if start is not None else None
    return found is not None and not any(c["data_added"] for c in found)


def spark_type_names(path: str) -> dict[str, str] | None:
    """Column -> Spark's simpleString of its type (`bigint`, `map<string,string>`), from the table's schema in the
    log (delta-rs); None for a remote or missing table."""
    if local_log(path) is None or not (Path(path) / "_delta_log").is_dir():
        return None
    from deltalake import DeltaTable

    return {f["name"]: simple_string(f["type"]) for f in json.loads(DeltaTable(path).schema().to_json())["fields"]}


SIMPLE_NAMES = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}


def simple_string(kind: str | dict[str, Any]) -> str:
    """A Delta schema type (its JSON form) as Spark's DataType.simpleString writes it."""
    if isinstance(kind, str):
        return SIMPLE_NAMES.get(kind, kind)
    if kind["type"] == "array":
        return f"array<{simple_string(kind['elementType'])}>"
    if kind["type"] == "map":
        return f"map<{simple_string(kind['keyType'])},{simple_string(kind['valueType'])}>"
    return "struct<" + ",".join(f"{f['name']}:{simple_string(f['type'])}" for f in kind["fields"]) + ">"
