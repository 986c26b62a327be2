"""The lakectl Typer app: global options and the command list. Imports no Spark, MLflow or SDK."""

from __future__ import annotations

import importlib

import typer

from lakectl import __version__
from lakectl.cli.argv import COMMANDS
from lakectl.cli.options import Output
from lakectl.cli.state import State
from lakectl.cli.usage import LakectlGroup


def _version(value: bool) -> None:
    if value:
        print(f"lakectl {__version__}")
        raise typer.Exit()


def main(
    ctx: typer.Context,
    config: str | None = typer.Option(None, "--config", "-c", envvar="LAKECTL_CONFIG", help="Config file (default: configs/lakectl.yaml)."),
    target: str | None = typer.Option(
        None, "--target", "-t", envvar="LAKECTL_TARGET", help="Target from the config (default: its default_target)."
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
        None, "--timeout", min=1, help="Databricks targets: cancel a run after this many seconds (default: the target's timeout_minutes)."
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
    are then neither imported nor turned into Click commands)."""
    cli = typer.Typer(
        name="lakectl",
        help="Operate a Delta Lake lakehouse: ingest, transform, aggregate, train, score, grant, monitor, optimize, deploy.",
        no_args_is_help=True,
        rich_markup_mode="rich",
        pretty_exceptions_enable=False,
        cls=LakectlGroup,  # usage mistakes: one `lakectl: error:` line, exit 2
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    cli.callback()(main)
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        module = importlib.import_module(f"lakectl.cli.commands.{name}")
        if isinstance(getattr(module, "app", None), typer.Typer):
            cli.add_typer(module.app, name=name)
        else:
            cli.command(name)(getattr(module, name))
    return cli


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole CLI, for tests and tools that import it
        return build()
    raise AttributeError(name)
