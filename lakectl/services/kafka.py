"""A real single-node Kafka broker (KRaft) on loopback, over scripts/kafka-local.

The script fetches Kafka's jars once (cached under $LAKECTL_CACHE or ~/.cache/lakectl), formats KRaft
storage and runs `kafka.Kafka` on 127.0.0.1. Each broker started here has its own data folder and free
ports, so brokers can run side by side; a data folder keeps its topics across restarts on other ports.

    broker = start_broker(root / "kafka")
    try:
        ...  # clients with {"bootstrap.servers": broker.bootstrap}
    finally:
        broker.stop()
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from lakectl.services.scripts import ServiceError, check_java, free_ports, run_script, script

FETCH_TIMEOUT = 900  # the first run downloads ~45 MB of jars with mvn
START_TIMEOUT = 60  # readiness wait inside the script
TOOL_TIMEOUT = 60  # one TopicCommand run

# Records older than ~2 s are deleted within ~1 s once a newer append has rolled their segment.
# log.initial.task.delay.ms=0 matters: otherwise the retention task first runs 30 s after start-up.
SHORT_RETENTION_PROPS = {
    "log.retention.ms": 2000,
    "log.roll.ms": 1000,
    "log.retention.check.interval.ms": 500,
    "log.initial.task.delay.ms": 0,
    "log.segment.delete.delay.ms": 0,
}


class KafkaBrokerError(ServiceError):
    """scripts/kafka-local failed."""


def _run(args: list[str], env: Mapping[str, str], timeout: float) -> str:
    try:
        return run_script(script("kafka-local"), args, env, timeout).stdout
    except ServiceError as e:
        raise KafkaBrokerError(f"Kafka: {e.message}", e.hint, e.output) from e.__cause__


class Broker:
    """A broker started by :func:`start_broker`; also a context manager."""

    name = "kafka"

    def __init__(self, data_dir: Path, port: int, controller_port: int, env: dict[str, str]):
        self.data_dir = data_dir
        self.port = port
        self.controller_port = controller_port
        self.bootstrap = f"127.0.0.1:{port}"
        self._env = env

    @property
    def ports(self) -> list[int]:
        return [self.port, self.controller_port]

    @property
    def log(self) -> Path:
        return self.data_dir / "kafka.log"

    def _script(self, *args: str, timeout: float = TOOL_TIMEOUT + 15) -> str:
        return _run(list(args), self._env, timeout)

    def create_topic(self, name: str, partitions: int = 1) -> None:
        self._script("create-topic", name, str(partitions))

    def delete_topic(self, name: str) -> None:
        self._script("delete-topic", name)

    def list_topics(self) -> list[str]:
        return [t for t in self._script("list-topics").split() if t]

    def is_running(self) -> bool:
        try:
            self._script("status", timeout=30)
            return True
        except KafkaBrokerError:
            return False

    def log_tail(self, lines: int = 50) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s; safe to call twice."""
        self._script("stop", timeout=60)

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Broker(bootstrap={self.bootstrap!r}, data_dir={str(self.data_dir)!r})"


def broker_env(data_dir: Path, extra_props: Mapping[str, object] | None = None, kafka_version: str | None = None) -> dict[str, str]:
    env = dict(os.environ, KAFKA_DATA_DIR=str(data_dir), KAFKA_START_TIMEOUT=str(START_TIMEOUT), KAFKA_TOOL_TIMEOUT=str(TOOL_TIMEOUT))
    if kafka_version:
        env["KAFKA_VERSION"] = kafka_version
    if extra_props:
        env["KAFKA_EXTRA_PROPS"] = "\n".join(f"{k}={v}" for k, v in extra_props.items())
    else:
        env.pop("KAFKA_EXTRA_PROPS", None)
    return env


def stop_leftover(data_dir: Path) -> None:
    """Stop a broker an earlier, killed process left running on this data folder (nothing if none)."""
    if (Path(data_dir) / "kafka.pid").exists():
        _run(["stop"], broker_env(Path(data_dir).resolve()), 60)


def start_broker(
    data_dir: Path,
    port: int | None = None,
    extra_props: Mapping[str, object] | None = None,
    *,
    controller_port: int | None = None,
    kafka_version: str | None = None,
) -> Broker:
    """Start a broker whose config, log and storage live in `data_dir`.

    `port=None` picks free ports (retrying if one is taken meanwhile). `extra_props` are appended to
    server.properties (SHORT_RETENTION_PROPS: records expire within seconds; Kafka 4 rejects
    `log.segment.bytes` below 1 MiB, so segments roll by time instead)."""
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    base_env = broker_env(data_dir, extra_props, kafka_version)
    check_java(base_env)
    _run(["fetch"], base_env, FETCH_TIMEOUT)

    attempts = 1 if port is not None else 3
    last_err: KafkaBrokerError | None = None
    for _ in range(attempts):
        if port is None:
            p, c = free_ports(2)
        else:
            p = port
            c = controller_port if controller_port is not None else port + 1
        env = dict(base_env, KAFKA_PORT=str(p), KAFKA_CONTROLLER_PORT=str(c))
        try:
            out = _run(["start"], env, START_TIMEOUT + 60).strip()
        except KafkaBrokerError as e:
            last_err = e
            if "already in use" in e.output:
                continue
            raise
        broker = Broker(data_dir, p, c, env)
        if out and out.splitlines()[-1] != broker.bootstrap:  # a broker from an earlier start on this data dir is still up
            broker.bootstrap = out.splitlines()[-1]
            broker.port = int(broker.bootstrap.rsplit(":", 1)[1])
        return broker
    assert last_err is not None
    raise last_err
