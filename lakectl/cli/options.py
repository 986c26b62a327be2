"""Options shared by many commands."""

from __future__ import annotations

import typer

JSON = typer.Option(False, "--json", help="Print one JSON document (for CI).")
DRY_RUN = typer.Option(False, "--dry-run", help="Print what would be done; change nothing.")
