"""Console entry point."""

from __future__ import annotations

import gc
import sys


def main() -> None:
    from lakectl.cli.app import build
    from lakectl.cli.argv import command_named, hoist_global_options

    argv = hoist_global_options(sys.argv[1:])
    cli = build(command_named(argv))
    # One command per process: what the imports created lives until exit, so the cyclic collector
    # need not walk it in every full pass; after the command, nothing is left to collect that exit
    # would not free anyway. Together ~15-20 ms of a `lakectl monitor tables` run.
    gc.freeze()
    try:
        code = cli(args=argv, prog_name="lakectl", standalone_mode=False)
    except Exception as exc:  # a usage error Click found (bad option or value)
        # typer vendors its own click: recognise its ClickException by name
        if not any(c.__name__ == "ClickException" for c in type(exc).__mro__):
            raise
        from lakectl.cli.options import json_requested

        if json_requested(argv):
            import json

            print(
                json.dumps(
                    {
                        "status": "error",
                        "error": {"kind": "usage", "message": exc.format_message(), "hint": "see --help", "exit_code": exc.exit_code},
                    }
                )
            )
        from typer import rich_utils

        rich_utils.rich_format_error(exc)
        code = exc.exit_code
    finally:
        gc.freeze()
    sys.exit(code if isinstance(code, int) else 0)
