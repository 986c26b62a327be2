"""The lakectl Typer app: global options and the command list. Imports no Spark, MLflow or SDK."""

from __future__ import annotations

import importlib

import typer

from lakectl import __version__
from lakectl.cli.argv import COMMANDS
from lakectl.cli.help import FloatRange
from lakectl.cli.options import Output
from lakectl.cli.state import State
from lakectl.cli.usage import LakectlGroup
from lakectl.core.errors import EXIT_CODES


def _version(value: bool) -> None:
    if value:
        print(f"lakectl {__version__}")
        raise typer.Exit()


def main(
    ctx: typer.Context,
    config: str | None = typer.Option(
        None, "--config", "-c", metavar="FILE", envvar="LAKECTL_CONFIG", help="Config file (default: configs/lakectl.yaml)."
    ),
    target: str | None = typer.Option(
        None, "--target", "-t", metavar="NAME", envvar="LAKECTL_TARGET", help="Target from the config (default: its default_target)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document (for CI); the same as -o json."),
    output: Output | None = typer.Option(
        None,
        "--output",
        "-o",
        metavar="FORMAT",
        help="table (default: fits the terminal), wide (nothing cut), json (= --json) or csv (the main table).",
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show stack traces and the JVM's output."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
    no_wait: bool = typer.Option(
        False, "--no-wait", help="Databricks targets: print the run id and URL and return; follow with `lakectl runs`."
    ),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        metavar="SECONDS",
        click_type=FloatRange(1, 7 * 24 * 3600),
        help="Databricks targets: cancel a run after this many seconds (default: the target's timeout_minutes).",
    ),
) -> None:
    if json_out and output not in (None, Output.json):
        raise typer.BadParameter(f"--json and -o {output.value} ask for different outputs; give one of them", param_hint="--output")
    ctx.obj = State(
        config=config,
        target=target,
        json=json_out or output == Output.json,
        output=output.value if output else None,
        verbose=verbose,
        no_wait=no_wait,
        timeout=timeout,
    )


def build(only: str | None = None) -> typer.Typer:
    """The CLI with every command, or with just `only` (what a command line names: the others
    are then neither imported nor turned into Click commands). Each command declares its panel of the
    command list (lakectl.cli.help.PANELS), its examples and exit codes; the list follows the panels' order."""
    from lakectl.cli.help import OTHER_PANEL, PANELS, epilog, panel_of

    cli = typer.Typer(
        name="lakectl",
        help="Operate a Delta Lake lakehouse: ingest, transform, aggregate, train, score, grant, monitor, optimize, deploy.",
        epilog=epilog(
            [
                ("lakectl demo", "a day of synthetic data through every stage"),
                ("lakectl run --source kafka", "ingest, transform and aggregate new events"),
                ("lakectl monitor check --junit checks.xml", "a CI gate: exit 7 on a breach"),
                ("lakectl COMMAND --help", "a command's options, examples and exit codes"),
            ],
            exits=tuple(EXIT_CODES),
        ),
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        cls=LakectlGroup,  # usage mistakes: one `lakectl: error:` line, exit 2
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    cli.callback()(main)
    found = []
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        module = importlib.import_module(f"lakectl.cli.commands.{name}")
        sub = getattr(module, "app", None)
        found.append((name, sub if isinstance(sub, typer.Typer) else getattr(module, name), module))
    order = {p: i for i, p in enumerate((*PANELS, OTHER_PANEL))}
    found.sort(key=lambda f: order[panel_of(f[2] if isinstance(f[1], typer.Typer) else f[1])])  # stable: COMMANDS order within a panel
    for name, command, module in found:
        if isinstance(command, typer.Typer):
            cli.add_typer(command, name=name, rich_help_panel=panel_of(module))
        else:
            cli.command(name, rich_help_panel=panel_of(command), epilog=getattr(command, "help_epilog", None))(command)
    return cli


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole CLI, for tests and tools that import it
        return build()
    raise AttributeError(name)
