"""A stream's checkpoint as lakectl keeps it: the one-process lock, the identity of the source it was made
for (and its stable transaction app id), and what a Delta source's checkpoint has not read yet.

Importing this module loads no Spark: `lakectl monitor` reads the lock and state files it names."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import CheckpointConflict

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

STATE_FILE = "_lakectl.json"
LOCK_FILE = "_lakectl.lock"
STREAM_LOCK_HINT = "wait for it to finish or stop it; two streams on one checkpoint would corrupt it"


@contextmanager
def checkpoint_lock(checkpoint: Path, hint: str = STREAM_LOCK_HINT, *, what: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the checkpoint while a query runs: a second process on the same
    checkpoint is refused (CheckpointConflict, exit 6) with the holder's pid, host and start time.
    The OS drops the lock when its holder dies, even by kill -9, so a dead holder never blocks:
    the file it leaves behind is only a note, the flock is the lock.

    A checkpoint this call created is removed again when the block fails before the stream planned a batch:
    left behind, it would show as a stream that never ran (and a standing lag breach)."""
    created = not checkpoint.exists()
    checkpoint.mkdir(parents=True, exist_ok=True)
    fd = os.open(checkpoint / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by children (PEP 446)
    locked = False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 256, 0).decode(errors="replace").strip() or "another process"
            raise CheckpointConflict(f"{what or f'checkpoint {checkpoint}'} is in use by {holder}", hint) from None
        locked = True
        os.ftruncate(fd, 0)
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()} since {since}".encode(), 0)
        yield
    except BaseException:
        if created and locked and not planned_a_batch(checkpoint):
            import shutil

            shutil.rmtree(checkpoint, ignore_errors=True)  # still holding the lock: nobody else is in it
        raise
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def planned_a_batch(checkpoint: Path) -> bool:
    """Whether a stream on this checkpoint ever planned a batch: an offsets or commits file anywhere under it
    (Spark's checkpoint is a subfolder, e.g. <checkpoint>/offsets/offsets/0). Before that it wrote nothing
    anywhere, and its transaction app id was never used."""
    return any(f.name.isdigit() for d in ("offsets", "commits") for log in checkpoint.rglob(d) if log.is_dir() for f in log.iterdir())


def stage_lock(checkpoints_dir: Path, stage: str) -> contextlib.AbstractContextManager[None]:
    """The one-at-a-time lock of a batch stage that has no checkpoint of its own (optimize; later
    score, train): <checkpoints>/<stage>/_lakectl.lock, the same mechanism as a stream's checkpoint."""
    return checkpoint_lock(
        checkpoints_dir / stage, f"wait for the other `lakectl {stage}` to finish", what=f"lakectl {stage} ({checkpoints_dir / stage})"
    )


def checkpoint_app_id(checkpoint: Path, identity: dict[str, Any]) -> str:
    """The stable transaction app id of a checkpoint, created on first use. A checkpoint that was
    made for another source identity is refused: its offsets mean nothing for the new source."""
    checkpoint.mkdir(parents=True, exist_ok=True)
    state_file = checkpoint / STATE_FILE
    if state_file.exists():
        state = json.loads(state_file.read_text())
        if state.get("identity") != identity:
            raise CheckpointConflict(
                f"checkpoint {checkpoint} belongs to another source: {state.get('identity')} (now {identity})",
                "use a new --checkpoint, or delete the old one to start over (bronze keeps what it has)",
            )
        return str(state["app_id"])
    app_id = f"lakectl-{uuid.uuid4().hex}"
    tmp = state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps({"app_id": app_id, "identity": identity, "created": time.time()}))
    tmp.rename(state_file)
    return app_id


def pending_delta_rows(spark: SparkSession, path: str, spark_checkpoint: Path | None) -> int | None:
    """Rows committed to the Delta table at `path` after the last version the Spark checkpoint of a
    stream reading it processed (Delta log figures); all of the table's rows when `spark_checkpoint`
    is None. None when the checkpoint state cannot be read."""
    from pyspark.sql import functions as F

    from lakectl.lake import delta

    start = 0
    if spark_checkpoint is not None:
        offsets = spark_checkpoint / "offsets"
        files = sorted(offsets.glob("[0-9]*"), key=lambda f: int(f.name)) if offsets.is_dir() else []
        if files:
            try:
                last = json.loads(files[-1].read_text().splitlines()[-1])
                start = int(last["reservoirVersion"]) + (0 if int(last.get("index", -1)) == -1 else 1)
            except (ValueError, KeyError, IndexError):
                return None
    commits = delta.history(spark, path)
    if commits is None:
        return 0
    row = (
        commits.where((F.col("version") >= start) & F.col("operation").isin("WRITE", "STREAMING UPDATE", "CREATE TABLE AS SELECT"))
        .select(F.sum(F.col("operationMetrics")["numOutputRows"].cast("long")).alias("n"))
        .first()
    )
    return int(row["n"] or 0)
