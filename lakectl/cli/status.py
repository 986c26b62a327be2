"""A live status line on stderr while a remote run is watched."""

from __future__ import annotations

import sys
import time


class StatusLine:
    """One live line on stderr (state, elapsed time, run page URL); plain lines on state changes when
    stderr is not a terminal."""

    def __enter__(self) -> "StatusLine":
        from rich.console import Console

        self.console = Console(stderr=True)
        self.live = self.console.status("submitting to Databricks…") if self.console.is_terminal else None
        if self.live:
            self.live.start()
        self.last_state: str | None = None
        self.started = time.monotonic()
        return self

    def __call__(self, text: str) -> None:
        if self.live:
            self.live.update(text)
            return
        state = text.split(":", 1)[-1].split()[0] if ":" in text else text
        if state != self.last_state:
            self.last_state = state
            print(f"lakectl: {text}", file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.live.stop()
