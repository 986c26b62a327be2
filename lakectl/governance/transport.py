"""Plain HTTP/1.1 with keep-alive for the catalog server: one http.client connection per thread,
reused for every request that thread sends, and one small bounded thread pool per client.

urllib.request opens (and tears down) a TCP connection per request and imports ssl/email on the
way; a persistent connection per thread saves the handshake and the server's per-connection work
on each of the hundreds of requests a plan makes.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# A reused connection the server closed meanwhile fails with one of these before any answer arrives;
# the request is then sent once more on a fresh connection.
_STALE = (http.client.RemoteDisconnected, http.client.CannotSendRequest, ConnectionResetError, BrokenPipeError)


class HttpStatus(Exception):
    def __init__(self, status: int, reason: str, body: bytes) -> None:
        super().__init__(f"HTTP {status}")
        self.status, self.reason, self.body = status, reason, body


class KeepAliveClient:
    """Requests to one server over per-thread persistent connections; `map` runs calls on a bounded pool."""

    def __init__(self, url: str, headers: dict[str, str], *, timeout_s: float = 10.0, threads: int = 4) -> None:
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path
        self._headers = headers
        self.timeout_s = timeout_s
        self.threads = max(1, threads)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._conns: list[http.client.HTTPConnection] = []
        self._pool: ThreadPoolExecutor | None = None
        self.requests = 0
        self.connections = 0

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self.timeout_s)
            self._local.conn = conn
            with self._lock:
                self._conns.append(conn)
                self.connections += 1
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def request(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        """The decoded JSON answer ({} when empty); HttpStatus on >= 400; OSError when unreachable."""
        target = self._prefix + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        headers = dict(self._headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        with self._lock:
            self.requests += 1
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.sock is not None
            try:
                conn.request(method, target, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except _STALE:
                self._drop()
                if reused and attempt == 1:  # grant PATCHes are set operations: sending one twice is harmless
                    continue
                raise
            except BaseException:
                self._drop()
                raise
            if resp.will_close:
                self._drop()
            if resp.status >= 400:
                raise HttpStatus(resp.status, resp.reason, raw)
            return json.loads(raw) if raw else {}
        raise AssertionError("unreachable")

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """fn over items on the client's pool (in order); inline when there is one item or one thread."""
        items = list(items)
        if len(items) <= 1 or self.threads == 1:
            return [fn(i) for i in items]
        return list(self.pool().map(fn, items))

    def pool(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="lakectl-http")
            return self._pool

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            conns, self._conns = self._conns, []
        if pool is not None:
            pool.shutdown(wait=True)
        for c in conns:
            c.close()
