"""`python -m lakectl.engine.warmup`: resolve and cache the Spark jars once (used by scripts/setup)."""

from __future__ import annotations

import sys
import tempfile


def main() -> int:
    from lakectl.config import LocalTarget, settings_from_dict
    from lakectl.core.errors import LakectlError
    from lakectl.engine.local import cached_jars, get_session, packages, stop_session

    if cached_jars():
        print("Spark jars already cached", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as root:
        try:
            get_session(settings_from_dict({"storage": {"root": root}}), LocalTarget(master="local[1]"))
        except LakectlError as exc:
            print(f"setup: error: {exc.one_line()}", file=sys.stderr)
            return exc.exit_code
        finally:
            stop_session()
    print(f"cached: {', '.join(packages())}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
