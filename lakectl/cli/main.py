"""Console entry point."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    from lakectl.cli.app import build, command_named

    cli = build(command_named(sys.argv[1:]))
    # One command per process: what the imports created lives until exit, so the cyclic collector
    # need not walk it in every full pass; after the command, nothing is left to collect that exit
    # would not free anyway. Together ~15-20 ms of a `lakectl monitor tables` run.
    gc.freeze()
    try:
        cli(prog_name="lakectl")
    finally:
        gc.freeze()
