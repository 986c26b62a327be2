"""Console entry point."""

from __future__ import annotations


def main() -> None:
    from lakectl.cli.app import app

    app()
