"""Real single-node Kafka broker (KRaft) for integration tests.

Thin Python wrapper over ``scripts/kafka-local``: the script fetches Kafka's
jars from Maven Central once (cached under ``$LAKECTL_CACHE`` or
``~/.cache/lakectl``), formats KRaft storage and runs ``kafka.Kafka`` on
127.0.0.1.  Every broker started here gets its own data dir and ports, so
tests can run brokers side by side.

    broker = start_broker(tmp_path / "kafka", extra_props=SHORT_RETENTION_PROPS)
    try:
        broker.create_topic("events", 3)
        ...  # confluent_kafka clients with {"bootstrap.servers": broker.bootstrap}
    finally:
        broker.stop()

No pytest import here, so it can also be used from scripts.
"""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "kafka-local"

FETCH_TIMEOUT = 900  # first run downloads ~45 MB of jars via mvn
START_TIMEOUT = 60  # readiness wait inside the script
TOOL_TIMEOUT = 60  # one TopicCommand run

# Records older than ~2 s are deleted within ~1 s once a newer append has
# rolled their segment (checked: low watermark moves past them).
# log.initial.task.delay.ms=0 matters: otherwise the retention task first
# runs 30 s after startup.
SHORT_RETENTION_PROPS = {
    "log.retention.ms": 2000,
    "log.roll.ms": 1000,
    "log.retention.check.interval.ms": 500,
    "log.initial.task.delay.ms": 0,
    "log.segment.delete.delay.ms": 0,
}


class KafkaBrokerError(RuntimeError):
    """scripts/kafka-local failed; the message carries its stderr."""


def free_ports(n: int = 1) -> list[int]:
    """``n`` distinct currently-free TCP ports on 127.0.0.1."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _run_script(args: list[str], env: Mapping[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        proc = subprocess.run(
            ["bash", str(SCRIPT), *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as e:
        raise KafkaBrokerError(f"kafka-local {' '.join(args)} timed out after {timeout}s:\n{e.stderr or ''}") from e
    if proc.returncode != 0:
        raise KafkaBrokerError(
            f"kafka-local {' '.join(args)} exited {proc.returncode}:\n{proc.stderr.strip()}\n{proc.stdout.strip()}".rstrip()
        )
    return proc


class Broker:
    """A broker started by :func:`start_broker`; also a context manager."""

    def __init__(self, data_dir: Path, port: int, controller_port: int, env: dict[str, str]):
        self.data_dir = data_dir
        self.port = port
        self.controller_port = controller_port
        self.bootstrap = f"127.0.0.1:{port}"
        self._env = env

    def _script(self, *args: str, timeout: float = TOOL_TIMEOUT + 15) -> str:
        return _run_script(list(args), self._env, timeout).stdout

    def create_topic(self, name: str, partitions: int = 1) -> None:
        self._script("create-topic", name, str(partitions))

    def delete_topic(self, name: str) -> None:
        self._script("delete-topic", name)

    def list_topics(self) -> list[str]:
        return [t for t in self._script("list-topics").split() if t]

    def is_running(self) -> bool:
        proc = subprocess.run(
            ["bash", str(SCRIPT), "status"],
            env=self._env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        return proc.returncode == 0

    def log_tail(self, lines: int = 50) -> str:
        log = self.data_dir / "kafka.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s; safe to call twice."""
        self._script("stop", timeout=60)

    def __enter__(self) -> Broker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Broker(bootstrap={self.bootstrap!r}, data_dir={str(self.data_dir)!r})"


def start_broker(
    data_dir: Path,
    port: int | None = None,
    extra_props: Mapping[str, object] | None = None,
    *,
    controller_port: int | None = None,
    kafka_version: str | None = None,
) -> Broker:
    """Start a broker whose config, log and storage live in ``data_dir``.

    ``port=None`` picks free ports (retrying if one is grabbed meanwhile).
    ``extra_props`` are appended to server.properties.  Short retention, to
    get expired offsets within seconds, is ``SHORT_RETENTION_PROPS``; note
    Kafka 4 rejects ``log.segment.bytes`` below 1 MiB, so segments are rolled
    by time (on the next append after ``log.roll.ms``) instead.
    """
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    base_env = dict(os.environ)
    base_env["KAFKA_DATA_DIR"] = str(data_dir)
    base_env["KAFKA_START_TIMEOUT"] = str(START_TIMEOUT)
    base_env["KAFKA_TOOL_TIMEOUT"] = str(TOOL_TIMEOUT)
    if kafka_version:
        base_env["KAFKA_VERSION"] = kafka_version
    if extra_props:
        base_env["KAFKA_EXTRA_PROPS"] = "\n".join(f"{k}={v}" for k, v in extra_props.items())
    else:
        base_env.pop("KAFKA_EXTRA_PROPS", None)

    _run_script(["fetch"], base_env, FETCH_TIMEOUT)

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
            out = _run_script(["start"], env, START_TIMEOUT + 60).stdout.strip()
        except KafkaBrokerError as e:
            last_err = e
            if "already in use" in str(e):
                continue
            raise
        broker = Broker(data_dir, p, c, env)
        if out and out.splitlines()[-1] != broker.bootstrap:
            # a broker from an earlier start on this data dir is still up
            broker.bootstrap = out.splitlines()[-1]
            broker.port = int(broker.bootstrap.rsplit(":", 1)[1])
        return broker
    assert last_err is not None
    raise last_err
