"""A process that already holds a local SparkSession (a notebook, this test run) must not send a
Spark Connect target's jobs to it: the Connect target gets its own session, or its own error."""

from __future__ import annotations

import socket
import time

import pytest

from lakectl.config import settings_from_dict
from lakectl.core.errors import SourceUnavailable
from lakectl.engine.context import JobContext

pytestmark = pytest.mark.spark


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_connect_target_never_reuses_the_local_session(spark, tmp_path):
    settings = settings_from_dict(
        {
            "storage": {"root": str(tmp_path / "lake")},
            "default_target": "here",
            "targets": {
                "here": {"kind": "local"},
                "cluster": {"kind": "spark", "remote": f"sc://127.0.0.1:{_closed_port()}", "connect_timeout_s": 0.5},
            },
        },
        "<test>",
    )
    local = JobContext(settings=settings)
    assert local.spark is spark  # the local target shares the process's one local session
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="not reachable"):
        JobContext(settings=settings, target_name="cluster").spark
    assert time.monotonic() - started < 5
