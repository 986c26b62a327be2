from __future__ import annotations

import json
import sys

import typer

from lakectl.cli.boundary import guarded
from lakectl.cli.help import FloatRange, command
from lakectl.cli.options import JSON


@command(
    panel="Setup",
    examples=[
        ("lakectl doctor", "Python, Java, jars, config, storage and every endpoint"),
        ("lakectl doctor --json --probe-timeout 1", "for a script, quickly"),
    ],
    exits=(3,),
)
def doctor(
    ctx: typer.Context,
    timeout: float = typer.Option(
        3.0, "--probe-timeout", metavar="SECONDS", click_type=FloatRange(0.1, 30), help="Seconds per reachability probe."
    ),
    json_out: bool = JSON,
) -> None:
    """Check Python, Java, the jars cache, the config, storage and every target's and source's reachability; exit 3 on a failure."""
    from lakectl.core.errors import EnvironmentProblem
    from lakectl.onboarding.doctor import run_checks

    checks, fmt = guarded(ctx, json_out, lambda state: run_checks(state.config, timeout))
    failed = [c for c in checks if c.status == "fail"]
    if fmt == "json":
        print(json.dumps({"status": "fail" if failed else "ok", "checks": [c.to_dict() for c in checks]}))
    else:
        marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
        width = max(len(c.name) for c in checks)
        for c in checks:
            line = f"{marks[c.status]} {c.name:<{width}}  {c.detail}"
            print(line + (f"\n     {'':<{width}}  fix: {c.fix}" if c.fix and c.status != "ok" else ""))
    if failed:  # on stderr with --json too, like every other command's error
        print(f"lakectl: error: {len(failed)} check(s) failed: {', '.join(c.name for c in failed)}", file=sys.stderr)
        raise typer.Exit(EnvironmentProblem.exit_code)
