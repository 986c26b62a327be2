"""Options shared by many commands."""

from __future__ import annotations

from enum import Enum

import typer

JSON = typer.Option(False, "--json", help="Print one JSON document (for CI).")
DRY_RUN = typer.Option(False, "--dry-run", help="Print what would be done; change nothing.")


class Output(str, Enum):
    """`-o/--output` (the kubectl habit): how a command prints its result."""

    table = "table"  # the human view, fitted to the terminal (80 columns in CI logs)
    wide = "wide"  # the human view with nothing cut: no column limits, no ellipsis
    json = "json"  # one JSON document, the same as --json
    csv = "csv"  # the result's main table as CSV: a header and raw values


OUTPUT_FLAGS = ("--output", "-o")


def output_in(argv: list[str]) -> str | None:
    """The -o/--output value an argument list gives (the last one wins, as Click does); None without one."""
    found = None
    end = argv.index("--") if "--" in argv else len(argv)
    for i, arg in enumerate(argv[:end]):
        if arg in OUTPUT_FLAGS and i + 1 < end:
            found = argv[i + 1]
        elif arg.startswith("--output="):
            found = arg.split("=", 1)[1]
    return found


def json_requested(argv: list[str]) -> bool:
    """Whether an argument list asks for JSON (--json or -o json): its errors are then JSON documents too."""
    end = argv.index("--") if "--" in argv else len(argv)
    return "--json" in argv[:end] or output_in(argv) == "json"
