"""The local Kafka broker and Unity Catalog server as one pair: started together, stopped together.

`local_services(root)` starts both (in parallel: most of a start is waiting on a JVM) with their data under
`root`/kafka and `root`/uc, and stops both when the block ends, whether it ended well, raised, or was
interrupted (Ctrl-C; SIGTERM is turned into the same KeyboardInterrupt while the block runs). Ports are
free loopback ports picked at start; the data folders keep topics and the catalog for the next start.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lakectl.services.kafka import Broker, start_broker
from lakectl.services.kafka import stop_leftover as stop_leftover_broker
from lakectl.services.scripts import check_java, port_open
from lakectl.services.uc import UcServer, start_server
from lakectl.services.uc import stop_leftover as stop_leftover_server


@dataclass
class LocalServices:
    root: Path
    kafka: Broker | None = None
    uc: UcServer | None = None
    state: str = "starting"  # running, stopped
    problems: list[str] = field(default_factory=list)  # what went wrong while stopping

    @property
    def kafka_dir(self) -> Path:
        return self.root / "kafka"

    @property
    def uc_dir(self) -> Path:
        return self.root / "uc"

    def ports(self) -> list[int]:
        return [*(self.kafka.ports if self.kafka else []), *(self.uc.ports if self.uc else [])]

    def describe(self) -> dict[str, dict[str, Any]]:
        """Each service: where it listened, its data folder and log, and its state now."""
        out: dict[str, dict[str, Any]] = {}
        if self.kafka:
            k = self.kafka
            out["kafka"] = {"bootstrap": k.bootstrap, "ports": k.ports, "data_dir": str(k.data_dir), "log": str(k.log), "state": self.state}
        if self.uc:
            u = self.uc
            out["unity_catalog"] = {"url": u.url, "ports": u.ports, "data_dir": str(u.data_dir), "log": str(u.log), "state": self.state}
        return out

    def stop(self) -> None:
        """Stop both (each even if the other fails); a port still open afterwards is a problem."""
        for service in (self.kafka, self.uc):
            if service is None:
                continue
            try:
                service.stop()
            except Exception as exc:  # noqa: BLE001  # stop the other one too; report both
                self.problems.append(f"{service.name}: {getattr(exc, 'message', exc)}")
        still_open = [p for p in self.ports() if port_open(p, timeout=0.5)]
        if still_open:
            self.problems.append(f"ports still open after stopping: {still_open}")
        self.state = "stopped"


@contextmanager
def local_services(root: Path, *, on_started: Callable[[LocalServices], None] | None = None) -> Iterator[LocalServices]:
    """Both services running under `root` for the block; stopped when it ends, however it ends."""
    services = LocalServices(Path(root).absolute())
    with _sigterm_as_interrupt():
        pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="lakectl-services")
        starts: list[Future[Any]] = []
        try:
            check_java(os.environ)
            stop_leftover_broker(services.kafka_dir)  # a demo killed with -9 left these running: start afresh
            stop_leftover_server(services.uc_dir)
            starts = [pool.submit(start_broker, services.kafka_dir), pool.submit(start_server, services.uc_dir)]
            _collect(services, starts)
            services.state = "running"
            if on_started:
                on_started(services)
            yield services
        finally:
            _collect(services, starts, quiet=True)  # interrupted while starting: wait for what started, to stop it
            pool.shutdown(wait=True)
            services.stop()


def _collect(services: LocalServices, starts: list[Future[Any]], *, quiet: bool = False) -> None:
    """Take the started services from their futures; raise the first failure (unless quiet)."""
    errors: list[BaseException] = []
    for start in starts:
        try:
            started = start.result()
        except BaseException as exc:  # noqa: BLE001  # collect both before raising one
            errors.append(exc)
            continue
        if isinstance(started, Broker):
            services.kafka = started
        else:
            services.uc = started
    if errors and not quiet:
        raise errors[0]


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises KeyboardInterrupt while the block runs, so `finally` stops the services."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
