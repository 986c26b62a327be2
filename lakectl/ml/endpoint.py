"""Score texts through a served model: an MLflow scoring server (URL) or a Databricks serving endpoint.

Texts go in batches, a few batches in flight at once (a thread pool: the work is waiting on the
network); 429, 5xx and connection errors are retried with exponential backoff and jitter (a
Retry-After is honoured), any other 4xx or a malformed answer stops the run. No Spark here.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from lakectl.core.errors import JobFailed, SourceUnavailable, UsageError
from lakectl.ml.store import mask_uri

if TYPE_CHECKING:
    from databricks.sdk import WorkspaceClient

TEXT_COLUMN = "review_text"
DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, DEFAULT_ATTEMPTS = 256, 4, 5
MAX_RETRY_AFTER_S = 60.0  # a server asking for longer is waited on for this long at most
_EXCERPT = 200
ENDPOINT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}$")  # Databricks serving endpoint names


class Transient(Exception):
    """A failure worth retrying: 429, 5xx, a connection error or a timeout."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


class Stopped(Exception):
    """Another batch failed: this one gave up (never reported; the first failure is)."""


class Endpoint(Protocol):
    display: str  # how messages and results name it (credentials masked)

    def invoke(self, texts: Sequence[str]) -> Any:
        """The parsed answer for one batch; raises Transient (retry) or a LakectlError (stop)."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_ATTEMPTS  # tries per batch, the first included
    base_s: float = 0.5
    cap_s: float = 20.0

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Full-jitter exponential backoff for the `retry`-th retry (1-based); a Retry-After wins."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), MAX_RETRY_AFTER_S)
        return rng.uniform(0, min(self.cap_s, self.base_s * 2 ** (retry - 1)))


def check_endpoint_name(name: str) -> str:
    """A Databricks serving endpoint name, or a usage error (the SDK puts it in the URL path unescaped)."""
    if not ENDPOINT_NAME.match(name):
        raise UsageError(f"serving endpoint name {name!r} is not valid", "letters, digits, '-' and '_' only (at most 63)")
    return name


def invocations_url(url: str) -> str:
    """The scoring URL: `/invocations` appended when the URL has no path; a usage error if not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"endpoint URL {mask_uri(url)!r} is not an http(s) URL", "e.g. http://127.0.0.1:5000 (an `mlflow models serve`)")
    path = parts.path if parts.path not in ("", "/") else "/invocations"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


class MlflowServer:
    """An MLflow scoring server (`mlflow models serve`, or anything speaking its /invocations protocol)."""

    def __init__(self, url: str, *, timeout_s: float = 60.0) -> None:
        self.url = invocations_url(url)
        self.display = mask_uri(self.url)
        self.timeout_s = timeout_s

    def invoke(self, texts: Sequence[str]) -> Any:
        import urllib.error
        import urllib.request

        body = json.dumps({"dataframe_split": {"columns": [TEXT_COLUMN], "data": [[t] for t in texts]}}).encode()
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json", "Accept": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310 - http(s) checked above
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            excerpt = _excerpt(exc.read())
            if exc.code == 429 or exc.code >= 500:
                raise Transient(f"HTTP {exc.code}: {excerpt}", _retry_after(exc.headers.get("Retry-After"))) from None
            raise JobFailed(
                f"scoring server {self.display} answered HTTP {exc.code}: {excerpt}",
                "the server refused the request: check the URL, the model's input schema (a `review_text` column) and the server log",
            ) from None
        except (urllib.error.URLError, OSError) as exc:  # refused, reset, DNS, timeout
            reason = getattr(exc, "reason", None) or exc
            raise Transient(f"{type(reason).__name__}: {reason}") from None
        try:
            return json.loads(raw)
        except ValueError:
            raise JobFailed(
                f"scoring server {self.display} answered with something that is not JSON: {_excerpt(raw)}",
                "is the URL an MLflow scoring server?",
            ) from None


class ServingEndpoint:
    """A Databricks Model Serving endpoint, through the SDK (`POST /serving-endpoints/{name}/invocations`).

    The SDK retries 429/503 by itself within the client's `retry_timeout_seconds`; what it gives up on
    comes back here as Transient or a stop."""

    def __init__(self, w: WorkspaceClient, name: str, host: str) -> None:
        self.w, self.name = w, check_endpoint_name(name)
        self.display = f"serving endpoint {name} on {host}"

    def invoke(self, texts: Sequence[str]) -> Any:
        from databricks.sdk import errors as e

        transient = (
            e.TooManyRequests,
            e.RequestLimitExceeded,
            e.ResourceExhausted,
            e.InternalError,
            e.TemporarilyUnavailable,
            e.DeadlineExceeded,
        )
        try:
            answer = self.w.serving_endpoints.query(self.name, dataframe_records=[{TEXT_COLUMN: t} for t in texts])
        except (e.NotFound, e.ResourceDoesNotExist) as exc:
            raise UsageError(
                f"{self.display}: not found ({_first_line(exc)})", "check the endpoint name (`databricks serving-endpoints list`)"
            ) from None
        except (e.Unauthenticated, e.PermissionDenied) as exc:
            raise UsageError(f"{self.display}: not allowed ({_first_line(exc)})", "the caller needs CAN QUERY on the endpoint") from None
        except transient as exc:
            raise Transient(f"{type(exc).__name__}: {_first_line(exc)}", getattr(exc, "retry_after_secs", None)) from None
        except e.DatabricksError as exc:
            raise JobFailed(
                f"{self.display} refused the request: {_first_line(exc)}", "check the endpoint's input schema (a `review_text` column)"
            ) from None
        except (TimeoutError, ConnectionError) as exc:  # the SDK's own retries ran out
            raise Transient(f"{type(exc).__name__}: {_first_line(exc)}") from None
        return {"predictions": answer.predictions}


@dataclass
class Counters:
    requests: int = 0  # requests sent, retries included
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, *, requests: int = 0, retries: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries


class Scorer:
    """Scores lists of texts through `endpoint`, `concurrency` batches of `batch_size` at a time."""

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        concurrency: int = DEFAULT_CONCURRENCY,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], object] | None = None,
        seed: int | None = None,
    ) -> None:
        if batch_size < 1 or concurrency < 1:
            raise UsageError("--batch-size and --concurrency must be at least 1")
        if retry is not None and retry.attempts < 1:
            raise UsageError("--max-attempts must be at least 1")
        self.endpoint, self.batch_size, self.concurrency = endpoint, batch_size, concurrency
        self.retry = retry or RetryPolicy()
        self.counters = Counters()
        self._stop = threading.Event()  # set when a batch failed: the others stop at their next step
        self._sleep = sleep or self._stop.wait  # a backoff pause ends early when the run is stopping
        self._rng, self._rng_lock = random.Random(seed), threading.Lock()

    def score(self, texts: Sequence[str]) -> list[float]:
        """P(positive) for each text, in order. The first batch that fails stops the others."""
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        if not batches:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(batches)), thread_name_prefix="score-endpoint") as pool:
            futures = [pool.submit(self._batch, b) for b in batches]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            failed = next((f for f in futures if f in done and f.exception() is not None), None)
            if failed is not None:
                self._stop.set()  # batches in flight end after their current request, queued ones never start
                for f in futures:
                    f.cancel()
                raise failed.exception()  # type: ignore[misc]
            return [s for f in futures for s in f.result()]

    def _batch(self, texts: Sequence[str]) -> list[float]:
        try:
            return self._attempts(texts)
        except Exception:
            self._stop.set()  # at once, from this thread: the other workers take no new batch
            raise

    def _attempts(self, texts: Sequence[str]) -> list[float]:
        for attempt in range(1, self.retry.attempts + 1):
            if self._stop.is_set():
                raise Stopped()
            self.counters.add(requests=1, retries=1 if attempt > 1 else 0)
            try:
                answer = self.endpoint.invoke(texts)
            except Transient as exc:
                if attempt == self.retry.attempts:
                    raise SourceUnavailable(
                        f"{self.endpoint.display} failed {attempt} time(s), last: {exc.reason}",
                        "is the server up? raise --max-attempts, or lower --concurrency if it is overloaded",
                    ) from None
                with self._rng_lock:
                    pause = self.retry.delay(attempt, exc.retry_after, self._rng)
                self._sleep(pause)
                continue
            return parse_predictions(answer, len(texts), self.endpoint.display)
        raise AssertionError("unreachable")  # pragma: no cover


def parse_predictions(answer: Any, expected: int, where: str) -> list[float]:
    """P(positive) per text from `{"predictions": [...]}`: a number (a 0/1 label from a Spark model is
    a number too), or an object with `score` or `probability` (a number, or [P(neg), P(pos)])."""
    predictions = answer.get("predictions") if isinstance(answer, dict) else answer if isinstance(answer, list) else None
    if not isinstance(predictions, list):
        raise JobFailed(
            f"{where} answered without a `predictions` list: {_excerpt(json.dumps(answer))}",
            "the model must return one number (P(positive)) per text",
        )
    if len(predictions) != expected:
        raise JobFailed(
            f"{where} answered {len(predictions)} predictions for {expected} texts", "the model must return one prediction per input row"
        )
    scores = []
    for i, p in enumerate(predictions):
        value = p
        if isinstance(p, dict):
            value = next((p[k] for k in ("score", "probability", "probabilities") if k in p), None)
        if isinstance(value, list) and len(value) == 2:
            value = value[1]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
            raise JobFailed(
                f"{where}: prediction {i} is not a score between 0 and 1: {_excerpt(json.dumps(p))}",
                "the model must return P(positive) as a number, or an object with `score` or `probability`",
            )
        scores.append(float(value))
    return scores


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = " ".join(text.split())
    return (text[:_EXCERPT] + "…") if len(text) > _EXCERPT else (text or "(empty body)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:300]
