"""Nothing left behind by a run that committed nothing (issue 31, item 10): a checkpoint folder a failed run
created is removed, unless a batch was planned in it (then its offsets and app id must survive for the replay);
a checkpoint that existed before is never touched."""

from __future__ import annotations

import pytest

from lakectl.lake.checkpoints import checkpoint_lock


def _fail_inside(checkpoint, before=None):  # noqa: ANN001, ANN202
    with pytest.raises(RuntimeError), checkpoint_lock(checkpoint):
        (checkpoint / "_lakectl.json").write_text("{}")
        if before:
            before(checkpoint)
        raise RuntimeError("the broker refused")


def test_a_checkpoint_created_by_a_failed_run_is_removed(tmp_path):
    _fail_inside(tmp_path / "new")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("log", ["offsets", "offsets/offsets", "offsets/commits"])  # Spark's checkpoint is a subfolder
def test_a_planned_batch_keeps_it(tmp_path, log):
    def plan(c):  # noqa: ANN001, ANN202
        (c / log).mkdir(parents=True)
        (c / log / "0").write_text("v1")

    _fail_inside(tmp_path / "new", plan)
    assert (tmp_path / "new" / log / "0").exists() and (tmp_path / "new" / "_lakectl.json").exists()


def test_a_started_stream_with_no_batch_yet_is_removed(tmp_path):
    def start(c):  # noqa: ANN001, ANN202
        (c / "offsets" / "offsets").mkdir(parents=True)
        (c / "offsets" / "metadata").write_text('{"id": "q"}')

    _fail_inside(tmp_path / "new", start)
    assert not (tmp_path / "new").exists()


def test_an_existing_checkpoint_and_a_successful_run_keep_theirs(tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    _fail_inside(old)
    assert old.exists()
    with checkpoint_lock(tmp_path / "ok"):
        pass
    assert (tmp_path / "ok").exists()


def test_a_failed_ingest_with_a_new_checkpoint_leaves_no_folder(tmp_path):
    import socket

    from typer.testing import CliRunner

    from lakectl.cli.app import build

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    config = tmp_path / "lakectl.yaml"
    config.write_text(
        f"storage:\n  root: {tmp_path / 'lake'}\nsources:\n  kafka:\n    bootstrap_servers: 127.0.0.1:{port}\n    topics: [e]\n"
    )
    checkpoint = tmp_path / "checkpoints" / "kafka-new"
    args = ["--config", str(config), "ingest", "--source", "kafka", "--checkpoint", str(checkpoint)]
    result = CliRunner().invoke(build(), args, env={"COLUMNS": "200"})
    assert result.exit_code == 4 and not checkpoint.exists()
