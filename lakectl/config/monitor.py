"""`monitor`: alert channels, de-duplication, small files and stale streams."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, field

from lakectl.core.typed import Struct


class MonitorSettings(Struct):
    """`lakectl monitor`: alert channels, de-duplication and what counts as a small file."""

    webhook_url: str | None = None  # Slack-compatible incoming webhook; write ${LAKECTL_ALERT_WEBHOOK_URL:-}
    smtp_host: str | None = None
    smtp_port: Annotated[int, Meta(ge=1, le=65535)] = 25
    smtp_from: str = "lakectl@localhost"
    smtp_to: list[str] = field(default_factory=list)
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password_env: str = "LAKECTL_SMTP_PASSWORD"
    renotify_minutes: Annotated[float, Meta(gt=0)] = 240.0  # a standing breach is re-alerted at most this often
    small_file_bytes: Annotated[int, Meta(ge=1)] = 32 * 1024 * 1024
    stream_stale_minutes: Annotated[float, Meta(gt=0)] = 10.0  # no progress for this long and no live pid: not running
    record_read_only: bool = False  # also record monitor, query and --dry-run runs in ops.runs
    small_file_min_files: Annotated[int, Meta(ge=1)] = 10  # max_small_file_ratio applies from this many files on
