"""Spark Connect sessions for `kind: spark` targets with `remote: sc://host:port`.

A dead or wrong address must end in one line within seconds, not in the Connect client's own
retries (up to ~10 minutes): probe the TCP port first, then make one bounded round trip.
"""

from __future__ import annotations

import socket
import threading
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lakectl.config import SparkTarget
from lakectl.core.errors import EnvironmentProblem, SourceUnavailable, UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_PORT = 15002
CLIENT_MODULES = ("grpc", "grpc_status", "google.rpc", "zstandard")
# Session settings every lakectl job assumes (the local runner sets the same).
SESSION_CONF = {"spark.sql.session.timeZone": "UTC"}


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @property
    def display(self) -> str:
        """The address without the URL's parameters (they may carry a token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"sc://{host}:{self.port}"


def endpoint(url: str) -> Endpoint:
    """Host and port of a Spark Connect URL: sc://host[:port][/;param=value...]."""
    if not url.startswith("sc://"):
        raise UsageError(f"not a Spark Connect URL: {url.split(';')[0]}", "write sc://host:15002")
    netloc = url[len("sc://") :].split("/", 1)[0].split(";", 1)[0]
    if netloc.startswith("["):  # IPv6 literal
        host, _, rest = netloc[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = netloc.partition(":")
    if not host:
        raise UsageError(f"Spark Connect URL has no host: sc://{netloc}", "write sc://host:15002")
    try:
        port = int(port_text) if port_text else DEFAULT_PORT
    except ValueError:
        raise UsageError(f"Spark Connect URL has a bad port: sc://{netloc}", "write sc://host:15002") from None
    return Endpoint(host, port)


def require_client() -> None:
    """The Connect client needs gRPC and friends, which plain `pip install lakectl` does not bring."""
    import importlib.util

    missing = [m for m in CLIENT_MODULES if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        raise EnvironmentProblem(
            f"the Spark Connect client is not installed (missing: {', '.join(missing)})",
            "pip install 'lakectl[connect]'",
        )


def probe(ep: Endpoint, timeout_s: float) -> None:
    """Fail fast when nothing listens at the address."""
    try:
        with socket.create_connection((ep.host, ep.port), timeout=timeout_s):
            return
    except socket.gaierror as exc:
        raise SourceUnavailable(
            f"Spark Connect server {ep.display}: unknown host ({exc.strerror})", "check `remote` in the target (or SPARK_REMOTE)"
        ) from None
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__).lower()
        raise SourceUnavailable(
            f"Spark Connect server {ep.display} is not reachable ({reason} after at most {timeout_s:g} s)",
            "start it (scripts/spark-connect-local start) or fix `remote` in the target (or SPARK_REMOTE)",
        ) from None


def build_session(target: SparkTarget, *, verbose: bool = False) -> SparkSession:
    """A Spark Connect session to `target.remote`, checked with one bounded round trip."""
    assert target.remote
    ep = endpoint(target.remote)
    require_client()
    probe(ep, target.connect_timeout_s)
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.retries import DefaultPolicy

    session = SparkSession.builder.remote(target.remote).create()
    client = session.client
    patient = client.get_retry_policies()
    # While we only check the server is there, do not let the client retry for minutes.
    client.set_retry_policies([DefaultPolicy(max_retries=3, initial_backoff=200, max_backoff=1000)])
    outcome: dict[str, object] = {}

    def handshake() -> None:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=r".*RETRIES_EXCEEDED")
                session.conf._set_all(configs={**SESSION_CONF, **target.spark_conf}, silent=True)  # type: ignore[attr-defined]
                outcome["version"] = session.version
        except BaseException as exc:  # noqa: BLE001 - reported on the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=handshake, name="lakectl-connect-handshake", daemon=True)
    worker.start()
    worker.join(target.connect_timeout_s + 10)
    client.set_retry_policies(patient)
    if "version" in outcome:
        return session
    _close_quietly(session)
    error = outcome.get("error")
    raise SourceUnavailable(
        f"Spark Connect server {ep.display} did not answer as Spark Connect: {_reason(error)}",
        "check that the address is a Spark Connect server (port 15002 by default) and look at its log",
    ) from (error if isinstance(error, BaseException) else None)


def _reason(error: object) -> str:
    """One short line about why the handshake failed (gRPC errors print as multi-line reprs)."""
    if error is None:
        return "no answer in time"
    cause: Any = error
    while cause is not None and not hasattr(cause, "details"):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        try:
            code = cause.code()
            return f"{getattr(code, 'name', code)}: {cause.details()}"[:200]
        except Exception:  # noqa: BLE001 - not a grpc.Call after all
            pass
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:200]


def _close_quietly(session: SparkSession) -> None:
    try:
        session.client.close()
    except Exception:  # noqa: BLE001 - best effort on a failed connection
        pass
