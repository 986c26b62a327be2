"""Command-line mistakes (unknown option, bad value, missing argument) as one `lakectl: error:` line
with exit 2, like every other error, instead of Click's multi-line usage box."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from typer import Abort
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer.core import TyperGroup


class LakectlGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        """Commands in the order of their help panels (lakectl.cli.help.PANELS), then of argv.COMMANDS: Typer
        would list the single commands before the groups, whatever their panel."""
        from lakectl.cli.argv import COMMANDS
        from lakectl.cli.help import OTHER_PANEL, PANELS

        panels = {p: i for i, p in enumerate((*PANELS, OTHER_PANEL))}
        names = super().list_commands(ctx)

        def key(name: str) -> tuple[int, int]:
            panel = getattr(self.commands[name], "rich_help_panel", None) or OTHER_PANEL
            return panels.get(panel, len(panels)), COMMANDS.index(name) if name in COMMANDS else len(COMMANDS)

        return sorted(names, key=key)

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        from lakectl.cli.argv import hoist_global_options

        # global options after the command (-o, --json, -c ...) move before it, wherever the CLI is
        # started from (the console script has done it already: doing it twice changes nothing)
        argv = hoist_global_options(list(sys.argv[1:] if args is None else args))
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except ClickException as exc:
            from lakectl.cli.options import json_requested

            code = usage_error(exc, as_json=json_requested(argv))
        except Abort:  # EOF on a prompt, or Ctrl-C while Click parses
            print("lakectl: error: interrupted", file=sys.stderr)
            code = 130
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def usage_error(exc: ClickException, *, as_json: bool) -> int:
    if isinstance(exc, NoArgsIsHelpError):  # `lakectl` or `lakectl monitor` alone: the help, as before
        exc.show()
        return exc.exit_code
    message = " ".join(exc.format_message().split())  # one line, whatever the message holds
    hint = None
    if isinstance(exc, UsageError) and exc.ctx is not None:
        hint = f"see `{exc.ctx.command_path} --help`"
    param = getattr(exc, "param", None)
    if param is not None and "--output" in getattr(param, "opts", []) and "is not one of" in message:
        hint = "-o/--output is the output format (table, wide, json, csv); a file is `--out FILE` (grant plan/export)"
    if as_json:
        print(json.dumps({"status": "error", "error": {"kind": "usage", "message": message, "hint": hint, "exit_code": exc.exit_code}}))
    print(f"lakectl: error: {message}" + (f" (hint: {hint})" if hint else ""), file=sys.stderr)
    return exc.exit_code
