"""FakeWorkspace: a loopback HTTP server answering the Databricks REST calls lakectl makes.

Every request is recorded (method, path, query, body); a request that breaks the documented
contract is answered 400 and recorded in `failures`, so a test can assert there were none.
Faults can be injected per route (429/503, optionally after the request was processed, as when a
response is lost on the way back).
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.databricks_fake import sdk_contract
from tests.databricks_fake.routes import AREAS, ApiError, Raw, Request, find

for _area in AREAS:
    importlib.import_module(f"tests.databricks_fake.areas.{_area}")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int = 0
    raw_path: str = ""  # the path as sent, percent-encoding kept


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    after: bool  # process the request, then answer the fault (a lost response)
    retry_after: int = 0


@dataclass
class FakeWorkspace:
    """The fake. `root` holds uploaded files at their workspace paths (/Workspace/..., /Volumes/...)."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dbx-fake-")))
    user_name: str = "someone@example.com"
    requests: list[Recorded] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)  # per-area state, keyed by area name
    lock: threading.RLock = field(default_factory=threading.RLock)
    accepted_token: str | None = None  # when set, any other bearer token is answered 401
    # the credentials a run's code gets from "the runtime" (a real cluster's SDK authenticates by itself)
    runtime_token: str = field(default_factory=lambda: f"dapi-runtime-{uuid.uuid4().hex}")
    chunk_rows: int = 0  # rows per result chunk of a statement (0: one chunk)
    warehouse: Any = None  # the SQL engine for sql/statements (see areas/sql.py); None: statements fail
    # serverless mode: a Spark Connect server's URL; serverless tasks then get only a Connect session (no JVM,
    # no py4j in their process), as on serverless compute. None: they run on a local Spark like a cluster.
    connect_url: str | None = None
    runtime_log_bytes: int = 0  # runtime log lines written after a task's own output (get-output keeps the last 5 MB)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeWorkspace:
        fake = self

        class Handler(_Handler):
            workspace = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="databricks-fake", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        from tests.databricks_fake.areas import jobs

        jobs.stop_all(self)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> FakeWorkspace:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # --- for tests ------------------------------------------------------------------------------

    def inject(self, method: str, path_regex: str, status: int, *, times: int = 1, after: bool = False, retry_after: int = 0) -> None:
        """Answer the next `times` matching requests with `status` (e.g. 429, 503)."""
        with self.lock:
            self.faults.append(Fault(method, re.compile(path_regex), status, times, after, retry_after))

    def calls(self, method: str, path_regex: str) -> list[Recorded]:
        pattern = re.compile(path_regex)
        with self.lock:
            return [r for r in self.requests if r.method == method and pattern.search(r.path)]

    def local_path(self, workspace_path: str) -> Path:
        """Where an uploaded workspace or volume path is stored (the fake's FUSE mount)."""
        return self.root / workspace_path.lstrip("/")

    def stored(self, workspace_path: str, data: bytes) -> None:
        """Keep an uploaded file and count uploads per path (for "uploaded once" assertions)."""
        target = self.local_path(workspace_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        with self.lock:
            counts = self.area("uploads")
            counts[workspace_path] = counts.get(workspace_path, 0) + 1

    def put_secret(self, scope: str, key: str, value: str) -> None:
        with self.lock:
            self.area("secrets")[(scope, key)] = value

    def area(self, name: str) -> dict[str, Any]:
        with self.lock:
            return self.state.setdefault(name, {})

    # --- dispatch ---------------------------------------------------------------------------------

    def dispatch(self, req: Request) -> tuple[int, Any, dict[str, str]]:
        record = Recorded(req.method, req.path, req.query, _loggable(req.body), raw_path=req.raw_path or req.path)
        with self.lock:
            self.requests.append(record)
            fault = self._take_fault(req.method, req.path)
        if fault is not None and not fault.after:
            record.status = fault.status
            return fault.status, _fault_body(fault), _retry_headers(fault)
        found = find(req.method, req.path)
        if found is None:
            with self.lock:
                self.failures.append(f"{req.method} {req.path}: no such endpoint")
            record.status = 404
            return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"no API found for '{req.method} {req.path}'"}, {}
        handler_route, match = found
        req.match, req.fake = match, self
        problem = sdk_contract.check(req.method, req.path, req.body)
        if problem is not None:
            with self.lock:
                self.failures.append(f"{req.method} {req.path}: {problem}")
            record.status = 400
            return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": problem}, {}
        try:
            status, body = handler_route.handler(req)
        except ApiError as err:
            if err.contract:
                with self.lock:
                    self.failures.append(f"{req.method} {req.path}: {err.message}")
            status, body = err.status, {"error_code": err.error_code, "message": err.message}
        if fault is not None:  # processed, but the answer is "lost"
            status, body = fault.status, _fault_body(fault)
        record.status = status
        return status, body, _retry_headers(fault) if fault else {}

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.pattern.search(path):
                fault.times -= 1
                return fault
        return None


def _fault_body(fault: Fault) -> dict[str, str]:
    if fault.status == 429:
        return {"error_code": "REQUEST_LIMIT_EXCEEDED", "message": "injected: too many requests"}
    return {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "injected: service unavailable"}


def _retry_headers(fault: Fault | None) -> dict[str, str]:
    return {"Retry-After": str(fault.retry_after)} if fault and fault.status in (429, 503) else {}


def _loggable(body: Any) -> Any:
    if isinstance(body, (bytes, bytearray)):
        return {"bytes": len(body)}
    if isinstance(body, dict) and any(isinstance(v, (bytes, bytearray)) for v in body.values()):
        return {k: ({"bytes": len(v)} if isinstance(v, (bytes, bytearray)) else v) for k, v in body.items()}
    return body


class _Handler(BaseHTTPRequestHandler):
    workspace: FakeWorkspace
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the request log is the record
        pass

    def _handle(self) -> None:
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "authorization"}
        try:
            body = _parse_body(raw, self.headers.get("Content-Type", ""))
        except ValueError as exc:
            self._send(400, {"error_code": "MALFORMED_REQUEST", "message": str(exc)}, {})
            return
        req = Request(self.command, unquote(url.path), query, headers, body, raw_path=url.path)
        wanted = self.workspace.accepted_token
        given = self.headers.get("Authorization")
        if (
            wanted is not None
            and not url.path.startswith("/.well-known/")
            and given not in (f"Bearer {wanted}", f"Bearer {self.workspace.runtime_token}")
        ):
            self.workspace.requests.append(Recorded(req.method, req.path, query, None, 401))
            self._send(401, {"error_code": "UNAUTHENTICATED", "message": "Invalid access token."}, {})
            return
        status, answer, extra = self.workspace.dispatch(req)
        self._send(status, answer, extra)

    def _send(self, status: int, body: Any, extra: dict[str, str]) -> None:
        if isinstance(body, Raw):
            data, content_type = body.data, body.content_type
        else:
            data, content_type = (b"" if body is None else json.dumps(body).encode()), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


def _parse_body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type.startswith("application/json"):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ValueError(f"body is not JSON: {exc}") from None
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
        fields: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[name] = payload if part.get_filename() else payload.decode()
        return fields
    return raw
