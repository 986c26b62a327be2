"""`python -m tests.databricks_fake`: serve a fake workspace on 127.0.0.1 and print its URL.

Point lakectl at it with DATABRICKS_HOST=<url> DATABRICKS_TOKEN=anything; Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from tests.databricks_fake import FakeWorkspace


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.databricks_fake", description=__doc__.splitlines()[0])
    parser.add_argument("--log", action="store_true", help="print every request as a JSON line on stderr when stopping")
    parser.add_argument("--warehouse", action="store_true", help="answer SQL statements with a local Spark session (started on first use)")
    args = parser.parse_args()
    fake = FakeWorkspace().start()
    if args.warehouse:
        fake.warehouse = _lazy_spark_engine(fake)
    print(fake.url, flush=True)
    print(f"files under {fake.root}; export DATABRICKS_HOST={fake.url} DATABRICKS_TOKEN=dapi-fake", file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
        if args.log:
            for r in fake.requests:
                print(
                    json.dumps({"method": r.method, "path": r.path, "query": r.query, "status": r.status, "body": r.body}, default=str),
                    file=sys.stderr,
                )
        for failure in fake.failures:
            print(f"contract failure: {failure}", file=sys.stderr)
        fake.cleanup()
    return 1 if fake.failures else 0


def _lazy_spark_engine(fake: FakeWorkspace):
    engine: list = []
    lock = threading.Lock()

    def run(*args):
        with lock:
            if engine:
                return engine[0](*args)
            from lakectl.config import LocalTarget, settings_from_dict
            from lakectl.engine.local import get_session
            from tests.databricks_fake.warehouse import spark_engine

            root = fake.root / "warehouse-session"
            engine.append(spark_engine(get_session(settings_from_dict({"storage": {"root": str(root)}}), LocalTarget(master="local[2]"))))
            return engine[0](*args)

    return run


if __name__ == "__main__":
    sys.exit(main())
