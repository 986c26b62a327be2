"""The WorkspaceClient for a target, and SDK errors turned into lakectl's one-line errors.

Auth is the SDK's unified auth only (a profile, DATABRICKS_HOST + DATABRICKS_TOKEN, OAuth...):
lakectl never reads a token, and no message it prints is built from one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from lakectl.config import DatabricksTarget
from lakectl.core.errors import ConfigError, EnvironmentProblem, JobFailed, LakectlError, SourceUnavailable, UsageError

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient


def require_sdk() -> None:
    import importlib.util

    if importlib.util.find_spec("databricks.sdk") is None:
        raise EnvironmentProblem("databricks-sdk is not installed", "pip install 'lakectl[databricks]'")


def host_label(target: DatabricksTarget) -> str:
    """How messages name the workspace: the host (never credentials)."""
    host = target.host or (None if target.profile else os.environ.get("DATABRICKS_HOST"))
    if host:
        return host.split("?")[0].rstrip("/")
    return f"profile {target.profile}" if target.profile else "the workspace"


def probe_host(target: DatabricksTarget) -> None:
    """A TCP connect to the workspace host before the SDK's auth runs: the SDK retries its host-metadata
    probe for `connect_timeout_s` and then reports missing credentials, not an unreachable host.
    Skipped through a proxy (the proxy, not the host, is what must answer) and for a profile's host."""
    import socket
    from urllib.parse import urlparse

    host = target.host or (None if target.profile else os.environ.get("DATABRICKS_HOST"))
    if not host or any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")):
        return
    url = urlparse(host if "://" in host else f"https://{host}")
    if not url.hostname:
        return
    port = url.port or (80 if url.scheme == "http" else 443)
    try:
        socket.create_connection((url.hostname, port), timeout=min(10.0, float(target.connect_timeout_s))).close()
    except OSError as exc:
        raise SourceUnavailable(
            f"Databricks workspace {host_label(target)} is not reachable while connecting "
            f"({url.hostname}:{port}: {exc.strerror or type(exc).__name__})",
            "check the host and your network (a proxy: set HTTPS_PROXY)",
        ) from exc
    _probe_answer(target, f"{url.scheme or 'https'}://{url.netloc}/.well-known/databricks-config")


def _probe_answer(target: DatabricksTarget, url: str) -> None:
    """One unauthenticated GET of the host-metadata document the SDK asks for first, bounded by
    connect_timeout_s: a host that accepts connections and never answers would otherwise hold the SDK
    for its 60 s request timeout, then print its own warning and go on to the next call."""
    import time
    import urllib.error
    import urllib.request

    started = time.monotonic()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "lakectl"}), timeout=target.connect_timeout_s):
            pass
    except urllib.error.HTTPError:
        return  # it answers (404 on an older workspace is fine: the SDK falls back)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
            raise SourceUnavailable(
                f"Databricks workspace {host_label(target)} accepts connections but did not answer within "
                f"{target.connect_timeout_s} s (after {time.monotonic() - started:.0f} s)",
                "check the host (is it a Databricks workspace?) or raise `connect_timeout_s` in the target",
            ) from exc
        return  # TLS or protocol trouble: the SDK's own call reports it with its context


def workspace_client(target: DatabricksTarget) -> WorkspaceClient:
    require_sdk()
    from lakectl import __version__

    probe_host(target)
    with api_errors(target, "connecting"):
        from databricks.sdk import WorkspaceClient
        from databricks.sdk.config import Config

        kwargs: dict[str, object] = {
            "product": "lakectl",
            "product_version": __version__,
            "retry_timeout_seconds": target.connect_timeout_s,
        }
        if target.profile:
            kwargs["profile"] = target.profile
        if target.host:
            kwargs["host"] = target.host
        return WorkspaceClient(config=Config(**kwargs))  # type: ignore[arg-type]


@contextmanager
def api_errors(target: DatabricksTarget, doing: str) -> Iterator[None]:
    """SDK, HTTP and auth errors as one line with a hint; the SDK masks secrets, we never add any."""
    try:
        yield
    except LakectlError:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - classified below
        raise classify(exc, target, doing) from exc


def classify(exc: BaseException, target: DatabricksTarget, doing: str) -> LakectlError:
    where = host_label(target)
    name = type(exc).__name__
    if isinstance(exc, ValueError) and ("auth" in str(exc).lower() or "host" in str(exc).lower() or "profile" in str(exc).lower()):
        return ConfigError(
            f"Databricks {where}: no usable credentials ({_first_line(exc)})",
            "set `profile` in the target (~/.databrickscfg) or export DATABRICKS_HOST and DATABRICKS_TOKEN",
        )
    if isinstance(exc, TimeoutError) or name in {"ConnectionError", "ConnectTimeout", "ReadTimeout", "ProxyError", "SSLError"}:
        return SourceUnavailable(
            f"Databricks workspace {where} is not reachable while {doing} (gave up after {target.connect_timeout_s} s)",
            "check the host, your network, or raise `connect_timeout_s` in the target",
        )
    try:
        from databricks.sdk.errors import DatabricksError, NotFound, PermissionDenied, ResourceDoesNotExist, Unauthenticated
    except ImportError:  # pragma: no cover - require_sdk ran first
        return JobFailed(f"{name}: {_first_line(exc)}")
    if isinstance(exc, Unauthenticated):
        return ConfigError(f"Databricks {where}: authentication failed while {doing}", "check the token or profile (databricks auth login)")
    if isinstance(exc, PermissionDenied):
        return UsageError(f"Databricks {where}: permission denied while {doing}: {_first_line(exc)}", "ask a workspace admin for access")
    if isinstance(exc, (NotFound, ResourceDoesNotExist)):
        return UsageError(
            f"Databricks {where}: not found while {doing}: {_first_line(exc)}",
            "check the target's cluster_id, artifact_path and warehouse_id",
        )
    if isinstance(exc, DatabricksError):
        status = getattr(exc, "error_code", None) or name
        if any(code in str(status) for code in ("INVALID_PARAMETER", "BAD_REQUEST", "MALFORMED")):
            return UsageError(f"Databricks {where} refused the request while {doing}: {_first_line(exc)}")
        return SourceUnavailable(
            f"Databricks {where} failed while {doing}: {status}: {_first_line(exc)}", "retry later; --verbose shows the trace"
        )
    return JobFailed(f"{name} while {doing}: {_first_line(exc)}", "--verbose shows the trace")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
