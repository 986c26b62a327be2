"""Alerts end to end against a real HTTP server and a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lakectl.cli.app import app


class _Webhook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "body": json.loads(body)})
        self.send_response(self.server.status)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args) -> None:
        pass


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    def handle(self) -> None:
        self.wfile.write(b"220 localhost test SMTP\r\n")
        envelope: dict = {"rcpt": []}
        data: list[bytes] | None = None
        while line := self.rfile.readline():
            if data is not None:
                if line.rstrip(b"\r\n") == b".":
                    self.server.messages.append({**envelope, "data": b"".join(data).decode()})
                    envelope, data = {"rcpt": []}, None
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line[1:] if line.startswith(b"..") else line)
                continue
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-localhost\r\n250 8BITMIME\r\n")
            elif verb == b"MAIL":
                envelope["from"] = line[10:].strip().decode()
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"RCPT":
                envelope["rcpt"].append(line[8:].strip().decode())
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"DATA":
                data = []
                self.wfile.write(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def webhook():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    server.requests, server.status = [], 200
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def smtp():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Smtp)
    server.daemon_threads = True
    server.messages = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _config(tmp_path: Path, webhook, smtp, *, sla_tables: list[str]) -> Path:
    cfg = tmp_path / f"lakectl-{'-'.join(sla_tables) or 'no-sla'}.yaml"
    tables = "".join(f"  {t}:\n    sla:\n      freshness_minutes: 60\n" for t in sla_tables) or "  {}\n"
    cfg.write_text(
        f"project: alerts-test\nstorage:\n  root: {tmp_path / 'lake'}\n"
        f"monitor:\n  webhook_url: http://127.0.0.1:{webhook.server_port}/hooks/T000/B000/secretpart\n"
        f"  smtp_host: 127.0.0.1\n  smtp_port: {smtp.server_address[1]}\n  smtp_from: lakectl@example.test\n"
        f"  smtp_to: [oncall@example.test, data@example.test]\n  renotify_minutes: 60\n"
        f"tables:\n{tables}"
    )
    return cfg


def _check(cfg: Path) -> tuple[int, dict]:
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check", "--json"])
    return res.exit_code, json.loads(res.stdout)


def test_standing_breach_alerts_once_and_again_after_resolve(tmp_path, webhook, smtp):
    breach_cfg = _config(tmp_path, webhook, smtp, sla_tables=["gold.kpi_hourly"])  # the table does not exist: breach
    code, doc = _check(breach_cfg)
    assert code == 7 and doc["breaches"] == 1
    assert len(webhook.requests) == 1 and len(smtp.messages) == 1
    req = webhook.requests[0]
    assert req["path"] == "/hooks/T000/B000/secretpart" and req["content_type"] == "application/json"
    assert "freshness:gold.kpi_hourly" in req["body"]["text"] and "alerts-test" in req["body"]["text"]
    mail = smtp.messages[0]
    assert mail["rcpt"] == ["<oncall@example.test>", "<data@example.test>"] and "freshness:gold.kpi_hourly" in mail["data"]
    assert "Subject: lakectl [alerts-test]: 1 SLA breach" in mail["data"]

    code, doc = _check(breach_cfg)  # the same breach still stands: no new alert
    assert code == 7 and len(webhook.requests) == 1 and len(smtp.messages) == 1
    assert doc["alerts"]["suppressed"] and not doc["alerts"]["alerted"]

    ok_cfg = _config(tmp_path, webhook, smtp, sla_tables=[])  # resolved
    code, doc = _check(ok_cfg)
    assert code == 0 and doc["alerts"]["resolved"] and len(webhook.requests) == 1

    code, _ = _check(breach_cfg)  # breached again after being resolved: alert again
    assert code == 7 and len(webhook.requests) == 2 and len(smtp.messages) == 2


def test_renotify_interval_and_failed_delivery_retries(tmp_path, webhook, smtp):
    import time

    from lakectl.config import load_settings
    from lakectl.monitor.alerts import notify
    from lakectl.monitor.sla import evaluate

    settings = load_settings(_config(tmp_path, webhook, smtp, sla_tables=["gold.kpi_hourly"]))
    checks = evaluate(settings)
    webhook.status = 500
    out = notify(settings, checks)
    assert out.sent == {"webhook": False, "email": True} and len(webhook.requests) == 1
    assert "secretpart" not in " ".join(out.errors) and "HTTP 500" in out.errors[0]
    webhook.status = 200
    now = time.time()
    out = notify(settings, checks, now=now + 59 * 60)  # within renotify_minutes: only the channel that failed
    assert out.sent == {"webhook": True} and out.retrying == {"webhook": [checks[0].fingerprint]}
    assert len(webhook.requests) == 2 and len(smtp.messages) == 1
    assert notify(settings, checks, now=now + 59.5 * 60).new == []  # every channel has it now
    out = notify(settings, checks, now=now + 121 * 60)  # past renotify_minutes on both: re-sent on both
    assert out.sent == {"webhook": True, "email": True} and len(webhook.requests) == 3 and len(smtp.messages) == 2


def test_dry_run_sends_nothing(tmp_path, webhook, smtp):
    cfg = _config(tmp_path, webhook, smtp, sla_tables=["gold.kpi_hourly"])
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check", "--dry-run"])
    assert res.exit_code == 7 and "would alert: 1 breach(es) via webhook, email" in res.stdout  # the channels, named
    assert webhook.requests == [] and smtp.messages == []
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check", "--dry-run", "--json"])
    assert json.loads(res.stdout)["alerts"]["would_notify"] == ["webhook", "email"]


def test_a_channel_that_failed_is_retried_while_the_other_stays_quiet(tmp_path, webhook, smtp):
    """Issue 31, item 6: webhook delivered, SMTP refused; runs 2 and 3 try the email again (it was never tried
    again: `already alerted (standing)`), and stop once it is delivered, without re-posting to the webhook."""
    cfg = _config(tmp_path, webhook, smtp, sla_tables=["gold.kpi_hourly"])
    port = smtp.server_address[1]
    cfg.write_text(cfg.read_text().replace(f"smtp_port: {port}", "smtp_port: 1"))  # nothing listens: refused
    code, doc = _check(cfg)
    assert code == 7 and doc["alerts"]["channels"] == {"webhook": True, "email": False} and len(webhook.requests) == 1
    code, doc = _check(cfg)
    assert doc["alerts"]["channels"] == {"email": False} and list(doc["alerts"]["retrying"]) == ["email"]
    assert len(webhook.requests) == 1  # the webhook has it: not posted again
    cfg.write_text(cfg.read_text().replace("smtp_port: 1\n", f"smtp_port: {port}\n"))  # the mail server is back
    res = CliRunner().invoke(app, ["--config", str(cfg), "monitor", "check"])
    assert "retried email: 1 breach(es)" in res.stdout and len(smtp.messages) == 1 and len(webhook.requests) == 1
    code, doc = _check(cfg)
    assert doc["alerts"]["suppressed"] and not doc["alerts"]["alerted"] and len(smtp.messages) == 1
