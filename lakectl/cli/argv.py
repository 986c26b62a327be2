"""The command line before Click sees it: which command it names, and global options moved in front of it."""

from __future__ import annotations

# In --help order within each command's panel (lakectl.cli.help.PANELS). Each is a module under lakectl.cli.commands that defines a function of the same
# name, or `app` (a Typer of subcommands).
COMMANDS = (
    "generate",
    "ingest",
    "transform",
    "replay",
    "aggregate",
    "run",
    "demo",
    "train",
    "score",
    "model",
    "lineage",
    "grant",
    "monitor",
    "optimize",
    "query",
    "deploy",
    "runs",
    "init",
    "doctor",
)
_VALUE_OPTIONS = {"--config", "-c", "--target", "-t", "--timeout", "--output", "-o"}  # global options that take a value


def command_named(argv: list[str]) -> str | None:
    """The command an argument list runs, when it names one of COMMANDS; else None."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


_GLOBAL_FLAGS = {"--json", "--verbose", "-v", "--no-wait"}


def hoist_global_options(argv: list[str]) -> list[str]:
    """Global options written after the command (`lakectl ingest --verbose`, `lakectl monitor runs
    --json -c x.yaml`) moved before it, where Click looks for them; nothing after `--` moves."""
    command_at = next((i for i, a in enumerate(argv) if a == command_named(argv)), None)
    if command_at is None:
        return argv
    head, rest, tail = argv[:command_at], [], []
    i = command_at
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest += argv[i:]
            break
        name = arg.split("=", 1)[0]
        if arg in _GLOBAL_FLAGS:
            head.append(arg)
        elif name in _VALUE_OPTIONS and "=" in arg:
            head.append(arg)
        elif arg in _VALUE_OPTIONS and i + 1 < len(argv):
            head += [arg, argv[i + 1]]
            i += 1
        else:
            rest.append(arg)
        i += 1
    return head + rest + tail
