"""The SparkSession factory: one session per process, Delta and the Kafka connector from Maven Central."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from lakectl.config import LocalTarget, Settings, SparkTarget
from lakectl.core.cache import cache_dir
from lakectl.core.errors import EnvironmentProblem

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SPARK_VERSION = "4.2.0"
SCALA_BINARY = "2.13"
KAFKA_PACKAGE = f"org.apache.spark:spark-sql-kafka-0-{10}_{SCALA_BINARY}:{SPARK_VERSION}"
# One session per kind of engine: the in-process JVM ("local") or a Spark Connect server (its URL).
# A command uses one target, so a CLI process holds one; keying by target keeps a process that
# already runs a local session (a notebook, the test suite) from sending a Connect target's jobs to it.
_sessions: dict[str, SparkSession] = {}


def _engine_key(target: LocalTarget | SparkTarget) -> str:
    return target.remote if isinstance(target, SparkTarget) and target.remote else "local"


def get_session(settings: Settings, target: LocalTarget | SparkTarget, *, verbose: bool = False) -> SparkSession:
    """The process's SparkSession for this target's engine, built on first use."""
    key = _engine_key(target)
    if key not in _sessions:
        _sessions[key] = _build(settings, target, verbose)
        _quiet_python_side(verbose)
    return _sessions[key]


def _quiet_python_side(verbose: bool) -> None:
    """Keep Spark's Python-side noise off the terminal; lakectl reports errors in one line.

    PySpark logs every captured SQL error as a JSON line with the Java stack (SQLQueryContextLogger),
    py4j logs a traceback per broken call on Ctrl-C, and PySpark's own SIGINT handler makes a py4j
    call from inside the signal handler while the main thread is in one ("reentrant call inside
    BufferedReader"). Ctrl-C then just raises KeyboardInterrupt; the JVM exits with this process."""
    import logging
    import signal
    import threading

    if verbose:
        return
    from pyspark.logger import PySparkLogger

    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True
    logging.getLogger("py4j").setLevel(logging.CRITICAL + 1)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def stop_session() -> None:
    while _sessions:
        _sessions.popitem()[1].stop()


def _build(settings: Settings, target: LocalTarget | SparkTarget, verbose: bool) -> SparkSession:
    if isinstance(target, SparkTarget) and target.remote:
        from lakectl.engine.connect import build_session

        return build_session(target, verbose=verbose)
    # Python workers must run this interpreter, with lakectl's packages on it.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    # An exported SPARK_REMOTE would silently turn this in-process session into a Connect client.
    os.environ.pop("SPARK_REMOTE", None)
    from pyspark.sql import SparkSession

    _require_java()
    log_dir = settings.storage.root_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"spark-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    conf = local_conf(settings, target)
    builder = SparkSession.builder.appName(f"lakectl:{settings.project}")
    if isinstance(target, SparkTarget) and target.master:
        builder = builder.master(target.master)
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        with _jvm_output_to(None if verbose else log_file):
            spark = builder.getOrCreate()
    except Exception as exc:
        raise _startup_error(exc, log_file) from exc
    _remember_jars(spark)
    _prune_logs(log_dir)
    return spark


def local_conf(settings: Settings, target: LocalTarget | SparkTarget) -> dict[str, str]:
    """Spark configuration sized for a small machine, with Delta and the Kafka connector."""
    resources = Path(__file__).resolve().parent.parent / "resources"
    log4j = resources / "log4j2.properties"
    tmp = settings.storage.root_dir / "tmp"
    conf: dict[str, str] = {
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.sql.warehouse.dir": str(settings.storage.root_dir / "warehouse"),
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.coalescePartitions.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.streaming.stopGracefullyOnShutdown": "true",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.local.dir": str(tmp),
        "spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile=file:{log4j} -Djava.io.tmpdir={tmp}",
        "spark.jars.ivy": str(cache_dir() / "ivy"),
        "spark.jars.ivySettings": str(resources / "ivysettings.xml"),
        "spark.databricks.delta.schema.autoMerge.enabled": "false",
    }
    if isinstance(target, LocalTarget):
        conf["spark.master"] = target.master
        conf["spark.driver.memory"] = target.driver_memory
        conf["spark.sql.shuffle.partitions"] = str(target.shuffle_partitions)
        conf["spark.default.parallelism"] = str(max(2, os.cpu_count() or 2))
        # Delta rebuilds table state in 50 tasks by default: sized for clusters, seconds of overhead
        # per snapshot on a laptop or a CI runner.
        conf["spark.databricks.delta.snapshotPartitions"] = str(max(2, os.cpu_count() or 2))
    jars = cached_jars()
    if jars:
        conf["spark.jars"] = ",".join(jars)  # resolved before: skip Ivy's resolution (seconds per start)
    else:
        conf["spark.jars.packages"] = ",".join(packages())
    conf.update(target.spark_conf)
    tmp.mkdir(parents=True, exist_ok=True)
    return conf


def packages() -> list[str]:
    """Maven coordinates of Delta (matching the installed delta-spark) and the Kafka connector."""
    from importlib.metadata import version

    spark_minor = ".".join(version("pyspark").split(".")[:2])
    # delta-spark names its artifact after the Spark line, as configure_spark_with_delta_pip does.
    return [f"io.delta:delta-spark_{spark_minor}_{SCALA_BINARY}:{version('delta-spark')}", KAFKA_PACKAGE]


def jar_manifest() -> Path:
    key = "-".join(p.replace(":", "_") for p in packages())
    return cache_dir() / "jars" / f"{key}.json"


def cached_jars() -> list[str]:
    manifest = jar_manifest()
    try:
        jars = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return []
    return jars if jars and all(Path(j).exists() for j in jars) else []


def _remember_jars(spark: SparkSession) -> None:
    manifest = jar_manifest()
    if manifest.exists():
        return
    jars = [j.removeprefix("file://").removeprefix("file:") for j in (spark.conf.get("spark.jars", "") or "").split(",") if j]
    if jars and all(Path(j).exists() for j in jars):
        manifest.parent.mkdir(parents=True, exist_ok=True)
        manifest.write_text(json.dumps(jars))


def _require_java() -> None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return
    if shutil.which("java"):
        return
    raise EnvironmentProblem("Java was not found (JAVA_HOME unset and no `java` on PATH)", "install Java 17 and set JAVA_HOME")


@contextmanager
def _jvm_output_to(log_file: Path | None) -> Iterator[None]:
    """Send the JVM's stdout/stderr (inherited at launch) to a log file instead of the terminal."""
    if log_file is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    fd = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for f in (fd, *saved):
            os.close(f)


def _startup_error(exc: Exception, log_file: Path) -> EnvironmentProblem:
    try:
        log = log_file.read_text(errors="replace")
    except OSError:
        log = ""
    if "unresolved dependency" in log or "UNRESOLVED DEPENDENCIES" in log or "Failed to resolve" in log:
        return EnvironmentProblem(
            f"could not resolve the Spark jars {', '.join(packages())}",
            f"check network access to the Maven repository or the Ivy cache at {cache_dir() / 'ivy'}; log: {log_file}",
        )
    return EnvironmentProblem(
        f"the local Spark session did not start: {str(exc).splitlines()[0][:200]}", f"see {log_file}; --verbose shows the JVM output"
    )


def _prune_logs(log_dir: Path, keep: int = 20) -> None:
    logs = sorted(log_dir.glob("spark-*.log"))
    for old in logs[:-keep]:
        old.unlink(missing_ok=True)
