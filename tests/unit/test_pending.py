"""lakectl.lake.pending answers "has the stream read everything?" from a Delta log and a stream checkpoint, and
answers None (Spark decides) whenever it cannot be sure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakectl.lake.pending import END_INDEX, stream_caught_up, stream_next_version, stream_pending_rows


@pytest.fixture
def table(tmp_path: Path) -> str:
    """A local Delta table with three commits of 2, 3 and 4 rows (versions 0, 1, 2), written by delta-rs."""
    import pyarrow as pa
    from deltalake import write_deltalake

    path = str(tmp_path / "bronze")
    for n in (2, 3, 4):
        write_deltalake(path, pa.table({"x": list(range(n))}), mode="append")
    return path


def checkpoint(root: Path, *batches: dict, committed: int | None = None) -> Path:
    """A Spark checkpoint whose batches end at these Delta source offsets; all committed unless `committed` says."""
    for d in ("offsets", "commits"):
        (root / d).mkdir(parents=True, exist_ok=True)
    for i, offset in enumerate(batches):
        source = {"sourceVersion": 1, "reservoirId": "r", "isStartingVersion": False, **offset}
        (root / "offsets" / str(i)).write_text("v1\n{}\n" + json.dumps(source) + "\n")
        if committed is None or i < committed:
            (root / "commits" / str(i)).write_text("v1\n{}\n")
    return root


def test_a_committed_offset_at_the_start_of_a_version_reads_from_there(tmp_path, table):
    cp = checkpoint(tmp_path / "cp", {"reservoirVersion": 3, "index": -1})
    assert stream_next_version(cp) == 3
    assert stream_caught_up(table, cp) and stream_pending_rows(table, cp) == 0


def test_new_commits_are_pending_with_their_rows(tmp_path, table):
    cp = checkpoint(tmp_path / "cp", {"reservoirVersion": 1, "index": -1})
    assert not stream_caught_up(table, cp) and stream_pending_rows(table, cp) == 3 + 4
    assert stream_pending_rows(table, None) == 2 + 3 + 4  # no checkpoint: the whole table


def test_an_offset_at_the_end_of_a_version_reads_the_next(tmp_path, table):
    cp = checkpoint(tmp_path / "cp", {"reservoirVersion": 2, "index": END_INDEX})
    assert stream_next_version(cp) == 3 and stream_caught_up(table, cp)


@pytest.mark.parametrize(
    "batches, committed, why",
    [
        ([{"reservoirVersion": 3, "index": -1}], 0, "the last batch is planned but not committed"),
        ([{"reservoirVersion": 2, "index": 0}], None, "an offset inside a version"),
        ([{"reservoirVersion": 2, "index": 5, "isStartingVersion": True}], None, "inside the starting snapshot"),
        ([], None, "no batch yet"),
    ],
)
def test_unsure_is_none_and_never_caught_up(tmp_path, table, batches, committed, why):
    cp = checkpoint(tmp_path / "cp", *batches, committed=committed)
    assert stream_next_version(cp) is None, why
    assert not stream_caught_up(table, cp) and stream_pending_rows(table, cp) is None


def test_a_log_cleaned_of_the_commits_in_question_or_a_remote_table_is_unsure(tmp_path, table):
    cp = checkpoint(tmp_path / "cp", {"reservoirVersion": 1, "index": -1})
    (Path(table) / "_delta_log" / f"{1:020d}.json").unlink()
    assert stream_pending_rows(table, cp) is None and not stream_caught_up(table, cp)
    assert stream_pending_rows("s3://bucket/bronze", cp) is None
