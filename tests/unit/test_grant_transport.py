"""The keep-alive transport of the grant backend, against a loopback http.server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lakectl.governance.transport import HttpStatus, KeepAliveClient


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    seen: list = []

    def do_GET(self) -> None:  # noqa: N802
        type(self).seen.append((self.path, self.client_address[1], self.headers.get("Authorization")))
        if self.path.startswith("/api/missing"):
            body, status = b'{"message": "nope"}', 404
        else:
            body, status = json.dumps({"path": self.path}).encode(), 200
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if self.path.startswith("/api/close"):
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a) -> None:
        pass


@pytest.fixture
def server():
    _Handler.seen = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_requests_reuse_one_connection_per_thread_and_encode_queries(server):
    c = KeepAliveClient(f"http://127.0.0.1:{server.server_address[1]}/prefix", {"Authorization": "Bearer t"}, threads=3)
    try:
        assert c.request("GET", "/api/a%2Fb", query={"q": "x y"}) == {"path": "/prefix/api/a%2Fb?q=x+y"}
        for _ in range(5):
            c.request("GET", "/api/again")
        assert c.connections == 1 and len({port for _, port, _ in _Handler.seen}) == 1
        out = c.map(lambda i: c.request("GET", f"/api/p{i}")["path"], range(30))
        assert out == [f"/prefix/api/p{i}" for i in range(30)]  # in order
        assert c.connections <= 4 and c.requests == 36
        assert {auth for *_, auth in _Handler.seen} == {"Bearer t"}
    finally:
        c.close()


def test_a_closed_connection_is_replaced_and_errors_carry_status_and_body(server):
    c = KeepAliveClient(f"http://127.0.0.1:{server.server_address[1]}", {}, threads=1)
    try:
        c.request("GET", "/api/close")  # the server closes after answering
        c.request("GET", "/api/next")
        assert c.connections == 2
        with pytest.raises(HttpStatus) as e:
            c.request("GET", "/api/missing")
        assert e.value.status == 404 and b"nope" in e.value.body
    finally:
        c.close()


def test_a_stale_reused_connection_is_retried_once_on_a_fresh_one(server):
    c = KeepAliveClient(f"http://127.0.0.1:{server.server_address[1]}", {}, threads=1)
    try:
        c.request("GET", "/api/one")
        c._local.conn.sock.close()  # as if the server had dropped the idle connection
        c._local.conn.sock = _Broken()
        assert c.request("GET", "/api/two") == {"path": "/api/two"}
        assert c.connections == 2
    finally:
        c.close()


def test_an_unreachable_server_is_an_oserror_and_a_bad_url_a_valueerror():
    with pytest.raises(ValueError):
        KeepAliveClient("ftp://x", {})
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = KeepAliveClient(f"http://127.0.0.1:{port}", {}, timeout_s=2)
    with pytest.raises(OSError):
        c.request("GET", "/x")


class _Broken:
    def sendall(self, data: bytes) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    def close(self) -> None:
        pass
