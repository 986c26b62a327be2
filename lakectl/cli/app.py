"""The lakectl Typer app: global options and the command list. Imports no Spark, MLflow or SDK."""

from __future__ import annotations

from typing import Optional

import typer

from lakectl import __version__
from lakectl.cli.commands import demo, generate, ingest
from lakectl.cli.commands import monitor
from lakectl.cli.commands import optimize
from lakectl.cli.commands import aggregate, query, run
from lakectl.cli.commands import transform
from lakectl.cli.state import State

app = typer.Typer(
    name="lakectl",
    help="Operate a Delta Lake lakehouse: ingest, transform, aggregate, optimize, monitor.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"lakectl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    config: Optional[str] = typer.Option(
        None, "--config", "-c", envvar="LAKECTL_CONFIG", help="Config file (default: configs/lakectl.yaml)."
    ),
    target: Optional[str] = typer.Option(None, "--target", "-t", envvar="LAKECTL_TARGET", help="Target from the config (default: its default_target)."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document (for CI)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show stack traces and the JVM's output."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    ctx.obj = State(config=config, target=target, json=json_out, verbose=verbose)


app.command("generate")(generate.generate)
app.command("ingest")(ingest.ingest)
app.command("transform")(transform.transform)
app.command("demo")(demo.demo)
app.add_typer(monitor.app, name="monitor")
app.command("optimize")(optimize.optimize)
app.command("aggregate")(aggregate.aggregate)
app.command("query")(query.query)
app.command("run")(run.run)
