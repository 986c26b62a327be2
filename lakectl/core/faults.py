"""Named kill points for crash tests. With LAKECTL_KILL_AT=STEP (or STEP@N for its N-th time in this
process) the process group is killed with SIGKILL when a job reaches that step: the same end as an
operator's `kill -9 -PGID`, but at a chosen place, so a test can replay the windows one by one."""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "LAKECTL_KILL_AT"
_reached: Counter[str] = Counter()


def kill_point(step: str) -> None:
    """Die here if LAKECTL_KILL_AT names this step (a no-op otherwise: one environment lookup)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    name, _, nth = wanted.partition("@")
    if name != step:
        return
    _reached[step] += 1
    if _reached[step] >= int(nth or 1):
        os.killpg(os.getpgid(0), signal.SIGKILL)
