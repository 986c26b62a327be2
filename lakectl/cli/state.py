"""Global options and the one boundary between a command and its job: run, render, map errors."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, NoReturn

import typer


OK_STATUSES = ("ok", "dry_run", "submitted")  # submitted: a --no-wait run on Databricks

# Commands whose result has a main table, so that `-o csv` can print it (header + raw values).
CSV_COMMANDS = ("query", "optimize", "aggregate", "model list", "model show", "monitor runs", "monitor tables",
                "monitor streams", "monitor quality", "monitor check", "monitor models", "grant show")


@dataclass
class State:
    config: str | None = None
    target: str | None = None
    json: bool = False  # --json or -o json
    output: str | None = None  # -o/--output as given: table, wide, json or csv
    verbose: bool = False
    no_wait: bool = False  # Databricks targets: print the run id and URL, do not watch
    timeout: float | None = None  # Databricks targets: bound on a run, in seconds


def state_of(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State()


def command_of(ctx: typer.Context) -> str:
    """The command a context runs, without the program name: 'monitor tables'."""
    return " ".join(ctx.command_path.split()[1:])


def output_format(ctx: typer.Context, json_out: bool = False) -> str:
    """The one place that decides how a command prints: table (default), wide, json or csv.
    `--json` is `-o json`; csv for a command without a main table is a usage error (exit 2) before any work."""
    state = state_of(ctx)
    if json_out and state.output not in (None, "json"):
        fail_usage(f"--json and -o {state.output} ask for different outputs", "give one of them", as_json=True)
    fmt = state.output or ("json" if json_out or state.json else "table")
    if fmt == "csv" and command_of(ctx) not in CSV_COMMANDS:
        fail_usage(f"-o csv is not available for `lakectl {command_of(ctx)}`: its result has no main table",
                   f"csv works with: {', '.join(CSV_COMMANDS)}; use -o json for the whole result", as_json=False)
    return fmt


def fail_usage(message: str, hint: str, *, as_json: bool) -> NoReturn:
    from lakectl.core.errors import UsageError

    fail(UsageError(message, hint), verbose=False, as_json=as_json)


def execute(ctx: typer.Context, job: str, params: dict[str, Any], *, json_out: bool = False) -> None:
    """Load settings, run `job` in this process, render its Result; errors end in one line."""
    state = state_of(ctx)
    fmt = output_format(ctx, json_out)
    as_json = fmt == "json"
    try:
        from lakectl.engine.context import JobContext
        from lakectl.jobs import run_job
        settings = load_settings_of(state)
        job_ctx = JobContext(settings=settings, target_name=state.target, verbose=state.verbose)
        target = settings.target(state.target)  # an unknown target is a usage error before any work
        if target.kind == "databricks":
            from lakectl.cli.status import StatusLine
            from lakectl.runners.dispatch import run_remote

            result = run_remote(settings, state.target, job, params, run_id=job_ctx.run_id, timeout_s=state.timeout,
                                wait=not state.no_wait, verbose=state.verbose, status_line=StatusLine)
        else:
            result = _with_status(lambda: run_job(job_ctx, job, params), job, fmt in ("json", "csv"))
    except typer.Exit:
        raise
    except BaseException as exc:  # the boundary: everything becomes one line and an exit code
        fail(exc, verbose=state.verbose, as_json=as_json)
    from lakectl.cli.render import render_result

    render_result(result, fmt=fmt)
    if result.status not in OK_STATUSES:
        raise typer.Exit(1)


def load_settings_of(state: State):  # noqa: ANN201 (Settings: imported lazily)
    """The settings for this command line; without any config file, say where lakectl looked."""
    from lakectl.config import DEFAULT_CONFIG, load_settings

    settings = load_settings(state.config)
    if settings.source_file == "<defaults>":
        print(f"lakectl: warning: no config file (looked for {DEFAULT_CONFIG.absolute()}; --config and LAKECTL_CONFIG are not set): "
              f"using built-in defaults with the lake in {settings.storage.root_dir.absolute()}", file=sys.stderr)
    return settings


def fail(exc: BaseException, *, verbose: bool, as_json: bool) -> NoReturn:
    from lakectl.core.errors import translate

    err = translate(exc)
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if as_json:
        print(json.dumps({"status": "error", "error": {"kind": err.kind, "message": err.message, "hint": err.hint, "exit_code": err.exit_code}}))
    print(f"lakectl: error: {err.one_line()}", file=sys.stderr)
    raise typer.Exit(err.exit_code)


def _with_status(fn, job: str, quiet: bool):
    if quiet or not sys.stderr.isatty():
        return fn()
    from rich.console import Console

    with Console(stderr=True).status(f"[bold]{job}[/] running…"):
        return fn()
