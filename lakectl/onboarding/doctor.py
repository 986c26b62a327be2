"""`lakectl doctor`: is this machine ready to run lakectl? One check per line, each with a fix.

Checks Python, Java, the jars cache, the config, the storage root and every target's and source's
reachability (Spark Connect, the Kafka brokers, a Databricks workspace's host) with short TCP probes.
Nothing here starts a JVM.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlparse

if TYPE_CHECKING:
    from lakectl.config import Settings

Status = Literal["ok", "warn", "fail"]


@dataclass
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def run_checks(config: str | None, timeout_s: float = 3.0) -> list[Check]:
    checks = [python_check(), java_check(), jars_check()]
    settings, config_check = load_config(config)
    checks.append(config_check)
    if settings is not None:
        checks.append(storage_check(settings))
        checks += target_checks(settings, timeout_s)
        checks.append(kafka_check(settings, timeout_s))
    return checks


def python_check() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info >= (3, 11):  # noqa: UP036 - doctor may run under another Python than lakectl was built for
        return Check("python", "ok", f"{version} at {sys.executable}")
    return Check("python", "fail", f"{version} is older than 3.11", "use Python 3.11 or newer")


def java_check() -> Check:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() else shutil.which("java")
    if not java:
        return Check("java", "fail", "no Java (JAVA_HOME unset and no `java` on PATH)", "install Java 17 and set JAVA_HOME")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=20).stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("java", "fail", f"{java} did not run: {exc}", "reinstall Java 17 and set JAVA_HOME")
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    if major == 1 and m and m.group(2):
        major = int(m.group(2))  # "1.8" style
    if major >= 17:
        return Check("java", "ok", f"Java {major} at {java}")
    return Check(
        "java", "fail", f"Java {major or '?'} at {java}; Spark 4 needs Java 17 or newer", "install Java 17 and point JAVA_HOME at it"
    )


def jars_check() -> Check:
    from lakectl.engine.local import cached_jars, jar_manifest

    jars = cached_jars()
    if jars:
        return Check("jars", "ok", f"{len(jars)} Delta/Kafka jars cached ({jar_manifest().parent})")
    return Check(
        "jars",
        "warn",
        f"Delta and Kafka-connector jars not cached yet ({jar_manifest().parent})",
        "run scripts/setup (the first Spark command downloads them, about a minute, online)",
    )


def load_config(config: str | None) -> tuple[Settings | None, Check]:
    from lakectl.config import DEFAULT_CONFIG, load_settings
    from lakectl.core.errors import LakectlError

    try:
        settings = load_settings(config)
    except LakectlError as exc:
        return None, Check("config", "fail", exc.message, exc.hint or "fix the config")
    if settings.source_file == "<defaults>":
        return settings, Check(
            "config",
            "warn",
            f"no config file (looked for {DEFAULT_CONFIG.absolute()}); built-in defaults",
            "lakectl init, or pass --config FILE / set LAKECTL_CONFIG",
        )
    return settings, Check(
        "config", "ok", f"{settings.source_file}: targets {', '.join(settings.targets)}, default {settings.default_target}"
    )


def storage_check(settings: Settings) -> Check:
    root = settings.storage.root_dir
    if "://" in settings.storage.root:
        return Check("storage", "ok", f"{settings.storage.root} (object storage: checked by the target)")
    probe = root if root.exists() else next((p for p in root.parents if p.exists()), Path("/"))
    if os.access(probe, os.W_OK):
        state = "exists" if root.exists() else "will be created"
        return Check("storage", "ok", f"{root} ({state}, writable)")
    return Check("storage", "fail", f"{root}: {probe} is not writable", "set storage.root (or LAKECTL_ROOT) to a writable folder")


def reachable(host: str, port: int, timeout_s: float) -> str | None:
    """None when something accepts a TCP connection there, else the reason."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except socket.gaierror:
        return "unknown host"
    except OSError as exc:
        return "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__).lower()


def target_checks(settings: Settings, timeout_s: float) -> list[Check]:
    from lakectl.config import DatabricksTarget, LocalTarget

    checks = []
    for name, target in settings.targets.items():
        label = f"target {name}"
        if isinstance(target, LocalTarget):
            checks.append(Check(label, "ok", "local Spark in this process (needs java and jars above)"))
        elif isinstance(target, DatabricksTarget):
            host = target.host or os.environ.get("DATABRICKS_HOST")
            if not host:
                checks.append(
                    Check(
                        label,
                        "warn",
                        f"workspace host from profile {target.profile or 'DEFAULT'} (~/.databrickscfg)",
                        "set host in the target or DATABRICKS_HOST to have it probed",
                    )
                )
                continue
            url = urlparse(host if "://" in host else f"https://{host}")
            why = reachable(url.hostname or "", url.port or 443, timeout_s)
            checks.append(
                Check(
                    label,
                    "ok" if why is None else "fail",
                    f"workspace {url.hostname} " + ("reachable" if why is None else f"not reachable ({why})"),
                    "" if why is None else "check the host and the network (proxy, VPN)",
                )
            )
        elif target.remote:
            from lakectl.engine.connect import endpoint

            ep = endpoint(target.remote)
            why = reachable(ep.host, ep.port, timeout_s)
            checks.append(
                Check(
                    label,
                    "ok" if why is None else "fail",
                    f"Spark Connect {ep.display} " + ("reachable" if why is None else f"not reachable ({why})"),
                    "" if why is None else "start it (scripts/spark-connect-local start) or fix `remote` (or SPARK_REMOTE)",
                )
            )
        else:
            checks.append(Check(label, "ok", f"Spark master {target.master}"))
    return checks


def kafka_check(settings: Settings, timeout_s: float) -> Check:
    servers = settings.sources.kafka.bootstrap_servers
    reasons = []
    for server in servers.split(","):
        host, _, port = server.strip().rpartition(":")
        why = reachable(host or "127.0.0.1", int(port or 9092), timeout_s)
        if why is None:
            return Check("kafka", "ok", f"broker {server.strip()} reachable")
        reasons.append(f"{server.strip()}: {why}")
    # only `--source kafka` needs it: a warning, not a failure
    return Check(
        "kafka",
        "warn",
        f"no broker reachable ({'; '.join(reasons)}); needed only for --source kafka",
        "scripts/kafka-local start, or set sources.kafka.bootstrap_servers (KAFKA_BOOTSTRAP_SERVERS)",
    )
