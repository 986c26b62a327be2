"""Alerts for SLA breaches: a Slack-compatible webhook ({"text": ...}) and email over SMTP,
de-duplicated by breach fingerprint so a standing breach is not re-sent on every run.

A breach is sent when it is new, when it comes back after being resolved, or when it has stood
for `monitor.renotify_minutes` since it was last sent. State lives in <root>/monitor/alert-state.json.
"""

from __future__ import annotations

import json
import os
import smtplib
import time
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from lakectl.config import MonitorSettings, Settings
from lakectl.monitor.sla import Check


@dataclass
class AlertOutcome:
    new: list[str] = field(default_factory=list)  # fingerprints alerted this run
    suppressed: list[str] = field(default_factory=list)  # standing breaches already alerted
    resolved: list[str] = field(default_factory=list)  # fingerprints that no longer breach
    sent: dict[str, bool] = field(default_factory=dict)  # channel -> delivered
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"alerted": self.new, "suppressed": self.suppressed, "resolved": self.resolved, "channels": self.sent, "errors": self.errors}


def state_path(settings: Settings) -> Path:
    return settings.storage.root_dir / "monitor" / "alert-state.json"


def load_state(path: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def save_state(path: Path, state: dict[str, dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)


def channels(cfg: MonitorSettings) -> list[str]:
    out = []
    if cfg.webhook_url:
        out.append("webhook")
    if cfg.smtp_host and cfg.smtp_to:
        out.append("email")
    return out


def message_text(project: str, checks: list[Check]) -> str:
    lines = [f"lakectl [{project}]: {len(checks):,} SLA breach{'es' if len(checks) != 1 else ''}"]
    lines += [f"- {c.name}: {c.message}" for c in checks]
    return "\n".join(lines)


def send_webhook(url: str, text: str, timeout: float = 10.0) -> None:
    body = json.dumps({"text": text}).encode()
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (URL from the operator's config)
        if resp.status >= 300:
            raise OSError(f"webhook answered HTTP {resp.status}")


def send_email(cfg: MonitorSettings, subject: str, text: str, timeout: float = 10.0) -> None:
    msg = EmailMessage()
    msg["From"] = cfg.smtp_from
    msg["To"] = ", ".join(cfg.smtp_to)
    msg["Subject"] = subject
    msg.set_content(text)
    with smtplib.SMTP(cfg.smtp_host or "", cfg.smtp_port, timeout=timeout) as smtp:
        if cfg.smtp_starttls:
            smtp.starttls()
        if cfg.smtp_user:
            smtp.login(cfg.smtp_user, os.environ.get(cfg.smtp_password_env, ""))
        smtp.send_message(msg)


def _safe_error(channel: str, exc: Exception) -> str:
    """One line without the webhook URL (for Slack the URL is the secret)."""
    code = getattr(exc, "code", None)
    reason = getattr(exc, "reason", None) or (str(exc).splitlines()[0][:150] if str(exc) else "")
    return f"{channel} alert not delivered: {type(exc).__name__}: {f'HTTP {code} ' if code else ''}{reason}"


def notify(settings: Settings, checks: list[Check], *, dry_run: bool = False, now: float | None = None) -> AlertOutcome:
    """Send one alert (per channel) listing the breaches that are due; update the dedup state."""
    cfg = settings.monitor
    now = now if now is not None else time.time()
    path = state_path(settings)
    state = load_state(path)
    breached = {c.fingerprint: c for c in checks if c.status == "breach"}
    outcome = AlertOutcome(resolved=sorted(fp for fp in state if fp not in breached))
    due: list[Check] = []
    for fp, c in breached.items():
        last = state.get(fp, {}).get("last_sent")
        if last is None or now - float(last) >= cfg.renotify_minutes * 60:
            due.append(c)
        else:
            outcome.suppressed.append(fp)
    targets = channels(cfg)
    if dry_run or not targets:
        outcome.new = [c.fingerprint for c in due] if targets else []
        return outcome
    text = message_text(settings.project, due)
    for channel in targets if due else []:
        try:
            if channel == "webhook":
                send_webhook(cfg.webhook_url or "", text)
            else:
                send_email(cfg, text.splitlines()[0], text)
            outcome.sent[channel] = True
        except Exception as exc:
            outcome.sent[channel] = False
            outcome.errors.append(_safe_error(channel, exc))
    if any(outcome.sent.values()):
        outcome.new = [c.fingerprint for c in due]
        for c in due:
            first = state.get(c.fingerprint, {}).get("first_sent", now)
            state[c.fingerprint] = {"name": c.name, "first_sent": first, "last_sent": now}
    for fp in outcome.resolved:
        state.pop(fp, None)  # resolved: the next breach of it alerts again
    save_state(path, state)
    return outcome
