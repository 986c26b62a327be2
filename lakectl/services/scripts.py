"""Finding and running the service scripts (scripts/kafka-local, scripts/uc-local), and loopback ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

from lakectl.core.errors import EnvironmentProblem

SCRIPTS_ENV = "LAKECTL_SCRIPTS_DIR"


class ServiceError(EnvironmentProblem):
    """A service script failed: `message` is its one-line reason, `output` everything it printed."""

    def __init__(self, message: str, hint: str | None = None, output: str = "") -> None:
        super().__init__(message, hint)
        self.output = output

    def __str__(self) -> str:  # what tests and logs read: the reason, then the script's output
        return f"{self.message}\n{self.output}".rstrip()


def scripts_dir() -> Path:
    """The project's scripts/ folder: $LAKECTL_SCRIPTS_DIR, else the one beside this package (a checkout)."""
    configured = os.environ.get(SCRIPTS_ENV)
    folder = Path(configured) if configured else Path(__file__).resolve().parents[2] / "scripts"
    if not (folder / "kafka-local").is_file():
        raise EnvironmentProblem(
            f"the service scripts are not in {folder}", f"run lakectl from a source checkout, or set {SCRIPTS_ENV} to its scripts/ folder"
        )
    return folder


def script(name: str) -> Path:
    return scripts_dir() / name


def check_java(env: Mapping[str, str]) -> None:
    """Java 17+ is needed by both services: say so in one line before a script tries."""
    java = env.get("JAVA") or (str(Path(env["JAVA_HOME"]) / "bin" / "java") if env.get("JAVA_HOME") else "java")
    if shutil.which(java, path=env.get("PATH")) is None:
        raise EnvironmentProblem(
            f"java not found ({java})", "install Java 17 or set JAVA_HOME; the local Kafka and Unity Catalog run on it"
        )


def run_script(path: Path, args: list[str], env: Mapping[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run a service script; a non-zero exit or a timeout is a ServiceError with the script's own reason."""
    label = f"{path.name} {' '.join(args)}"
    try:
        proc = subprocess.run(
            ["bash", str(path), *args], env=dict(env), stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
        raise ServiceError(f"{label} timed out after {timeout:g}s", "see its log under the service's data folder", err) from e
    if proc.returncode != 0:
        output = f"{proc.stderr.strip()}\n{proc.stdout.strip()}".strip()
        raise ServiceError(f"{label} exited {proc.returncode}: {reason(proc.stderr, path.name)}", _hint(proc.stderr), output)
    return proc


def reason(stderr: str, name: str) -> str:
    """The script's own one-line reason (its last `name: ...` line), else its last line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    own = [ln.removeprefix(f"{name}: ") for ln in lines if ln.startswith(f"{name}: ")]
    return (own or lines or ["no output"])[-1][:300]


def _hint(stderr: str) -> str:
    if "mvn" in stderr or "fetch failed" in stderr:
        return "the jars are fetched once with mvn and need the network; run the script's `fetch` where there is one"
    if "java not found" in stderr:
        return "install Java 17 or set JAVA_HOME"
    return "--verbose shows the script's output"


def free_ports(n: int = 1) -> list[int]:
    """`n` distinct currently-free TCP ports on 127.0.0.1."""
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


def free_pair() -> int:
    """A port N with N and N+1 both free on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port >= 65000:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return port
    raise ServiceError("no pair of free loopback ports", "free some ports and run again")


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
