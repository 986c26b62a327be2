"""Run the lakectl CLI in a subprocess and tell whether it imported pyspark (without pyspark no JVM can start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Runs lakectl and says at exit whether a JVM was launched (pyspark's gateway) and whether pyspark was imported
# (typer ends the process with sys.exit).
WATCH_IMPORTS = (
    "import atexit, runpy, sys; atexit.register(lambda: sys.stderr.write("
    "('\\nJVM_STARTED' if getattr(getattr(sys.modules.get('pyspark.context'), 'SparkContext', None), '_gateway', None) "
    "else '\\nno JVM') + ('\\nPYSPARK_IMPORTED\\n' if 'pyspark' in sys.modules else '\\nno pyspark\\n'))); "
    "sys.argv = ['lakectl'] + sys.argv[1:]; runpy.run_module('lakectl', run_name='__main__')"
)


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str  # without the watcher's line
    pyspark: bool  # pyspark was imported
    jvm: bool  # a JVM was launched (mlflow imports pyspark's Python modules itself, without one)
    seconds: float

    def json(self) -> Any:  # noqa: ANN401
        return json.loads(self.stdout)


def lakectl(*args: str, config: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600) -> Run:
    """`lakectl [--config CONFIG] ARGS...` in a new process."""
    cmd = [sys.executable, "-c", WATCH_IMPORTS, *(["--config", str(config)] if config else []), *args]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})
    took = time.monotonic() - started
    lines = proc.stderr.rstrip("\n").splitlines()
    watched = lines[-2:] if len(lines) >= 2 else ["", ""]
    return Run(
        proc.returncode, proc.stdout, "\n".join(lines[:-2]).strip(), watched[1] == "PYSPARK_IMPORTED", watched[0] == "JVM_STARTED", took
    )


def config_for(root: Path, extra: str = "") -> Path:
    """A config file beside `root` that keeps the lake there."""
    config = root.parent / "lakectl.yaml"
    config.write_text(f"storage:\n  root: {root}\n{extra}")
    return config


def query_every_table(tables_dir: Path, **how: Any) -> dict[str, int]:  # noqa: ANN401
    """`lakectl query` counts the rows of every Delta table under `tables_dir` (<schema>/<name>) in one statement:
    it must run on DuckDB, without importing pyspark and without a warning. {table: rows}."""
    tables = sorted(f"{d.parent.parent.name}.{d.parent.name}" for d in tables_dir.glob("*/*/_delta_log"))
    sql = " UNION ALL ".join(f"SELECT '{t}' AS t, count(*) AS n FROM {t}" for t in tables) + " ORDER BY t"
    run = lakectl("query", sql, "--json", "--limit", "1000", **how)
    assert run.returncode == 0 and not run.pyspark, run.stderr
    doc = run.json()
    assert doc["engine"] == "duckdb" and not doc["warnings"], run.stdout
    return {t: n for t, n in doc["rows"]}
