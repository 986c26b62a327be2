"""Alerts for SLA breaches: a Slack-compatible webhook ({"text": ...}) and email over SMTP,
de-duplicated by breach fingerprint so a standing breach is not re-sent on every run.

A breach is sent on a channel when it is new there, when it comes back after being resolved, or when it has
stood for `monitor.renotify_minutes` since that channel last got it: delivery is per channel, so a channel that
failed is retried on the next run although another succeeded. State lives in <root>/monitor/alert-state.json.
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
    retrying: dict[str, list[str]] = field(default_factory=dict)  # channel -> breaches another channel already got
    would_notify: list[str] = field(default_factory=list)  # a dry run: the channels it would send to

    def to_dict(self) -> dict[str, Any]:
        return {
            "alerted": self.new,
            "suppressed": self.suppressed,
            "resolved": self.resolved,
            "channels": self.sent,
            "would_notify": self.would_notify,
            "retrying": self.retrying,
            "errors": self.errors,
        }


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


def _due(entry: dict[str, Any] | None, channel: str, now: float, renotify_s: float) -> bool:
    """Is the breach due on this channel: never delivered there, or delivered longer than renotify ago. A state
    written before delivery was per channel has one last_sent for every channel."""
    if entry is None:
        return True
    per_channel = entry.get("channels")
    last = per_channel.get(channel) if isinstance(per_channel, dict) else entry.get("last_sent")
    return last is None or now - float(last) >= renotify_s


def _channels_of(entry: dict[str, Any] | None) -> set[str] | None:
    """The channels that got this breach (None: a state without per-channel delivery, or none yet)."""
    per_channel = (entry or {}).get("channels")
    return set(per_channel) if isinstance(per_channel, dict) and per_channel else None


def notify(settings: Settings, checks: list[Check], *, dry_run: bool = False, now: float | None = None) -> AlertOutcome:
    """Send one alert per channel listing the breaches due on it; update the dedup state. Delivery is tracked
    per channel: a channel that failed is tried again on the next run, whatever the other channels did."""
    cfg = settings.monitor
    now = now if now is not None else time.time()
    path = state_path(settings)
    state = load_state(path)
    breached = {c.fingerprint: c for c in checks if c.status == "breach"}
    outcome = AlertOutcome(resolved=sorted(fp for fp in state if fp not in breached))
    targets = channels(cfg)
    due = {ch: [c for fp, c in breached.items() if _due(state.get(fp), ch, now, cfg.renotify_minutes * 60)] for ch in targets}
    due_any = {c.fingerprint for cs in due.values() for c in cs}
    outcome.suppressed = [fp for fp in breached if fp not in due_any] if targets else []
    for ch, cs in due.items():  # due here although another channel has it: a delivery that failed before
        again = [c.fingerprint for c in cs if ch not in (_channels_of(state.get(c.fingerprint)) or {ch})]
        if again:
            outcome.retrying[ch] = again
    if dry_run or not targets:
        outcome.new = sorted(due_any, key=list(breached).index)
        outcome.would_notify = [ch for ch, cs in due.items() if cs]
        return outcome
    delivered: set[str] = set()
    for channel, items in due.items():
        if not items:
            continue
        text = message_text(settings.project, items)
        try:
            if channel == "webhook":
                send_webhook(cfg.webhook_url or "", text)
            else:
                send_email(cfg, text.splitlines()[0], text)
        except Exception as exc:
            outcome.sent[channel] = False
            outcome.errors.append(_safe_error(channel, exc))
            continue
        outcome.sent[channel] = True
        for c in items:
            entry = state.setdefault(c.fingerprint, {"name": c.name, "first_sent": now})
            per_channel = entry.get("channels")
            if not isinstance(per_channel, dict):  # an older state: its last_sent held for every channel
                per_channel = {ch: entry["last_sent"] for ch in targets if "last_sent" in entry}
            entry["channels"] = {**per_channel, channel: now}
            entry["last_sent"] = now
            delivered.add(c.fingerprint)
    outcome.new = [fp for fp in breached if fp in delivered]
    for fp in outcome.resolved:
        state.pop(fp, None)  # resolved: the next breach of it alerts again
    save_state(path, state)
    return outcome
