"""Shared fixtures: per-test settings under tmp_path, and ONE SparkSession for the whole run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with every table, checkpoint and landing folder under this test's tmp_path."""
    from lakectl.config import settings_from_dict

    return settings_from_dict({"storage": {"root": str(tmp_path / "lake")}}, "<test>")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory):
    """The one SparkSession of the test run (local Delta + Kafka connector), built by lakectl's runner."""
    from lakectl.config import LocalTarget, settings_from_dict
    from lakectl.engine.local import get_session, stop_session

    root = tmp_path_factory.mktemp("spark-session")
    boot = settings_from_dict({"storage": {"root": str(root)}}, "<test-session>")
    session = get_session(boot, LocalTarget(shuffle_partitions=2), verbose=False)
    yield session
    stop_session()


@pytest.fixture
def ctx(settings, spark):
    """A JobContext on the shared session with this test's own storage root."""
    from lakectl.engine.context import JobContext

    return JobContext(settings=settings, _spark=spark)


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory):
    """A real single-node Kafka broker on loopback for the whole run (scripts/kafka-local)."""
    from kafka_broker import start_broker

    broker = start_broker(tmp_path_factory.mktemp("kafka"))
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def uc_server(tmp_path_factory: pytest.TempPathFactory):
    """A real open-source Unity Catalog server (authorization on) on loopback for the run (scripts/uc-local)."""
    from uc_server import start_server

    server = start_server(tmp_path_factory.mktemp("uc"))
    yield server
    server.stop()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run the tests marked `slow` (long variants; LAKECTL_RUN_SLOW=1 does the same)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`slow` tests are the long variants of what the default run already covers with a bounded
    sample: deselected (and counted as such) unless --run-slow or LAKECTL_RUN_SLOW=1."""
    if config.getoption("--run-slow") or os.environ.get("LAKECTL_RUN_SLOW") == "1":
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
