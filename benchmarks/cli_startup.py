"""CLI start-up: median wall time of `lakectl --help` next to a Typer hello-world and `python -c pass`.

Prints one JSON document. Target: lakectl --help <= 1.5x the Typer hello-world.
Usage: python benchmarks/cli_startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELLO = '''
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world") -> None:
    """Say hello."""
    print(f"hello {name}")
@app.command()
def bye() -> None:
    """Say bye."""
app()
'''


def medians(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time per command; runs are interleaved so machine load hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        subprocess.run(cmd, capture_output=True, check=True)  # warm the OS cache
    for _ in range(runs):
        for name, cmd in commands.items():
            t = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            times[name].append(time.perf_counter() - t)
    return {name: round(statistics.median(ts), 4) for name, ts in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as d:
        hello = Path(d) / "hello.py"
        hello.write_text(HELLO)
        lakectl = shutil.which("lakectl")
        figures = medians(
            {
                "python_pass_s": [sys.executable, "-c", "pass"],
                "typer_hello_help_s": [sys.executable, str(hello), "--help"],
                "lakectl_help_s": [lakectl, "--help"] if lakectl else [sys.executable, "-m", "lakectl", "--help"],
            },
            args.runs,
        )
    ratio = figures["lakectl_help_s"] / figures["typer_hello_help_s"]
    print(
        json.dumps(
            {
                "benchmark": "cli_startup",
                "runs": args.runs,
                **figures,
                "baseline": "typer_hello_help_s",
                "ratio_vs_baseline": round(ratio, 3),
                "target_ratio": 1.5,
                "meets_target": ratio <= 1.5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
