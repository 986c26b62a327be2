"""The LakectlError tree: every error a user can cause, each with an exit code and a hint.

Exit codes (documented in the README):
  0 ok; 1 job or data failure; 2 usage or config error; 3 environment (Java, jars);
  4 source unavailable (broker, path); 5 data loss detected; 6 checkpoint or lock conflict;
  7 SLA breach (monitor check); 8 changes pending / drift (grant); 130 interrupted.
"""

from __future__ import annotations

import errno
from typing import Any


class LakectlError(Exception):
    """Base of every error lakectl reports as one line with a hint."""

    exit_code = 1
    kind = "error"

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """Message and hint on one line, whatever they quote (a YAML key with a newline, a Spark error)."""
        text = f"{self.message} (hint: {self.hint})" if self.hint else self.message
        return " ".join(text.split())


class JobFailed(LakectlError):
    """A job or its data failed (an expectation with action `fail`, a Spark error at run time)."""

    exit_code = 1
    kind = "job_failed"


class TooLittleTrainingData(JobFailed):
    """Too few labelled reviews, or one class only, to train a model (the demo goes on without one)."""

    kind = "too_little_training_data"


class UsageError(LakectlError):
    exit_code = 2
    kind = "usage"


class ConfigError(UsageError):
    kind = "config"


class TableNotFound(UsageError):
    kind = "table_not_found"


class EnvironmentProblem(LakectlError):
    """Java missing, jars not resolvable, a required package not installed."""

    exit_code = 3
    kind = "environment"


class SourceUnavailable(LakectlError):
    exit_code = 4
    kind = "source_unavailable"


class DataLossDetected(LakectlError):
    exit_code = 5
    kind = "data_loss"


class CheckpointConflict(LakectlError):
    exit_code = 6
    kind = "checkpoint_conflict"


class SlaBreach(LakectlError):
    exit_code = 7
    kind = "sla_breach"


class ChangesPending(LakectlError):
    """`grant plan`/`drift`: the server differs from the policy (CI gates on exit 8)."""

    exit_code = 8
    kind = "changes_pending"


class Interrupted(LakectlError):
    """A stop on request (Ctrl-C, SIGTERM). A job may attach what it committed before it stopped as `result`
    (a lakectl.core.results.Result), which the run ledger records."""

    exit_code = 130
    kind = "interrupted"
    result: Any = None


def prefixed(exc: LakectlError, doing: str) -> LakectlError:
    """The same error (kind, exit code, hint) with what was being done in front of its message."""
    import copy

    out = copy.copy(exc)
    out.message = f"{doing}: {exc.message}"
    out.args = (out.message,)
    return out


# Delta's optimistic-concurrency conflicts, as their names appear in an error's text (Spark's, a warehouse's):
# the other commit won, and retrying on a fresh snapshot is safe.
DELTA_CONFLICTS = (
    "ConcurrentModificationException",
    "ConcurrentAppendException",
    "ConcurrentDeleteReadException",
    "ConcurrentDeleteDeleteException",
    "ConcurrentTransactionException",
    "MetadataChangedException",
    "ProtocolChangedException",
    "DELTA_CONCURRENT_",
)

EXIT_CODES: dict[int, str] = {
    0: "success",
    1: "job or data failure",
    2: "usage or configuration error",
    3: "environment problem (Java, jar resolution, missing package)",
    4: "source unavailable (broker unreachable, topic or path missing)",
    5: "data loss detected (expired offsets, deleted topic)",
    6: "checkpoint or lock conflict",
    7: "SLA breach (monitor check)",
    8: "changes pending or drift (grant plan / drift, deploy --dry-run)",
    130: "interrupted",
}


def translate(exc: BaseException) -> LakectlError:
    """Map an exception raised by Spark, Py4J or the OS to a LakectlError with a hint."""
    if isinstance(exc, LakectlError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return Interrupted("interrupted")
    name = type(exc).__name__
    text = str(exc)
    first = _first_line(text)
    if name in {"ParseException", "ParseError"} or "PARSE_SYNTAX_ERROR" in text[:300]:
        return UsageError(f"SQL syntax error: {first}", "check the SQL near the position shown")
    if name == "AnalysisException" or "AnalysisException" in text[:200]:
        if "TABLE_OR_VIEW_NOT_FOUND" in text:  # a name in a statement: a typo far more often than a missing stage
            return TableNotFound(
                f"table not found: {first}", "tables are schema.name, e.g. silver.events; `lakectl monitor tables` lists them"
            )
        if "PATH_NOT_FOUND" in text or "is not a Delta table" in text or "DELTA_MISSING_DELTA_TABLE" in text:
            return TableNotFound(f"table not found: {first}", "run the stage that creates it first (see `lakectl --help`)")
        if "UNRESOLVED_COLUMN" in text:
            return UsageError(f"unknown column: {first}", "Spark lists the columns it knows in the message; --verbose shows the trace")
        return UsageError(f"Spark analysis error: {first}", "check table and column names; --verbose shows the trace")
    if "JAVA_GATEWAY_EXITED" in text or "Java gateway process exited" in text:
        return EnvironmentProblem(
            "the Spark JVM did not start", "check that Java 17 is installed and JAVA_HOME points to it; --verbose shows the JVM log"
        )
    if name == "StreamingQueryException":
        return JobFailed(f"streaming query failed: {first}", "--verbose shows the trace")
    if (
        name in {"Py4JJavaError", "SparkRuntimeException", "PySparkException", "CapturedException", "IllegalArgumentException"}
        or "pyspark" in type(exc).__module__
    ):
        return JobFailed(f"Spark job failed: {first}", "--verbose shows the trace")
    if isinstance(exc, FileNotFoundError):
        return UsageError(f"file not found: {exc.filename or first}")
    if isinstance(exc, PermissionError):
        return UsageError(f"permission denied: {exc.filename or first}")
    if isinstance(exc, IsADirectoryError):
        return UsageError(f"is a directory: {exc.filename or first}", "give a file path")
    if isinstance(exc, NotADirectoryError):
        return UsageError(f"not a directory: {exc.filename or first}", "a part of the path is a file")
    if isinstance(exc, FileExistsError):
        return UsageError(f"already exists: {exc.filename or first}", "choose another path")
    if isinstance(exc, OSError) and exc.filename:
        reason = (exc.strerror or type(exc).__name__).lower()
        if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EIO):
            return EnvironmentProblem(f"{reason}: {exc.filename}", "free space or fix the disk, then run again")
        return UsageError(f"cannot use path {exc.filename}: {reason}", "check the path")
    return JobFailed(f"{name}: {first}", "--verbose shows the trace")


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("JVM stacktrace") and not line.startswith("at "):
            return line[:limit]
    return text[:limit]
