"""A scripted loopback scoring server speaking MLflow's /invocations protocol (tests of `score --via endpoint`)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Server:
    """A scoring server on 127.0.0.1:0 answering from a script: a list of (status, headers, body|None)
    consumed one per request, then 200 with deterministic scores (len(text) % 10 / 10)."""

    def __init__(self, script=()) -> None:
        self.script = list(script)
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.bodies.append(body)
                    outer.paths.append(self.path)
                    step = outer.script.pop(0) if outer.script else None
                status, headers, answer = step or (200, {}, None)
                if answer is None and status == 200:
                    answer = {"predictions": [score_of(row[0]) for row in body["dataframe_split"]["data"]]}
                data = answer if isinstance(answer, bytes) else json.dumps(answer or {"error_code": "X", "message": "scripted"}).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def score_of(text: str) -> float:
    return (len(text) % 10) / 10
