"""The one boundary between a command line and a job: settings -> params -> run(job, params) ->
present(Result) -> exit code, and every error on the way as one line with its exit code.

Every command that runs a job comes through `run_job` (dbt-core's cli/requires.py and cli/main.py are the
model: the preconditions written once, one function from a result to the exit code); what differs between
commands is data passed to it (where the job may run, what is shown while it runs, how its Result is shown).
Commands that run no job (deploy, runs, init, doctor) share the output choice and the error line through
`guarded`. Nothing heavy is imported here at module level: `lakectl --help` reads this module."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

import typer

from lakectl.cli.state import State, state_of

if TYPE_CHECKING:
    from lakectl.config import Settings
    from lakectl.core.results import Result
    from lakectl.engine.context import JobContext

T = TypeVar("T")
Present = Callable[["Result", str], None]  # prints a Result in an output format (table, wide, json, csv)
Progress = Literal["spinner", "stages", "none"]

OK_STATUSES = ("ok", "dry_run", "submitted")  # submitted: a --no-wait run on Databricks

# Commands whose result has a main table, so that `-o csv` can print it (header + raw values).
CSV_COMMANDS = (
    "query",
    "optimize",
    "aggregate",
    "model list",
    "model show",
    "monitor runs",
    "monitor tables",
    "monitor streams",
    "monitor quality",
    "monitor check",
    "monitor models",
    "grant show",
)


def run_job(
    ctx: typer.Context,
    job: str,
    params: dict[str, Any],
    json_out: bool = False,
    *,
    remote: bool = True,
    progress: Progress = "spinner",
    tracked: bool = True,
    present: Present | None = None,
    changes_exit: bool = False,
) -> None:
    """Run `job` for this command line and end the command: its Result printed, its exit code raised.

    remote: on a Databricks target the job runs there (else in this process whatever the target).
    progress: a spinner while it runs (a terminal, table output); per-stage lines (a job of stages: run, demo;
      it gets their events and one ledger row as their parent); or nothing.
    tracked: recorded in the run ledger (ops.runs); reads that are not (grant plan) only get timed.
    present: how the Result is printed (default: lakectl.cli.presenters.show: the job's registered presenter).
    changes_exit: the status "changes" exits 8 (a CI gate: grant plan, drift)."""
    state = state_of(ctx)
    fmt = output_format(ctx, json_out)
    try:
        from lakectl.engine.context import JobContext

        settings = load_settings_of(state)
        target = settings.target(state.target)  # an unknown target is a usage error before any work
        job_ctx = JobContext(settings=settings, target_name=state.target, verbose=state.verbose)
        if remote and target.kind == "databricks":
            result = _run_remote(settings, state, job, params, job_ctx.run_id)
        elif progress == "stages":
            result = _run_stages(job_ctx, job, params, show=fmt != "json")
        else:
            result = _run_here(job_ctx, job, params, tracked=tracked, spinner=progress == "spinner" and fmt not in ("json", "csv"))
    except typer.Exit:
        raise
    except BaseException as exc:  # the boundary: everything becomes one line and an exit code
        fail(exc, verbose=state.verbose, as_json=fmt == "json")
    if present is None:
        from lakectl.cli.presenters import show

        show(result, fmt)
    else:
        present(result, fmt)
    code = exit_code(result, changes_exit=changes_exit)
    if code:
        raise typer.Exit(code)


def exit_code(result: Result, *, changes_exit: bool = False) -> int:
    """The one map from a Result to the process's exit code (README: Exit codes)."""
    from lakectl.core.errors import ChangesPending, SlaBreach, UsageError

    if result.status in OK_STATUSES:
        return 0
    if result.status == "changes":  # grant: changes to apply (a CI gate where the command asks for it)
        return ChangesPending.exit_code if changes_exit else 0
    if result.status == "breach":  # monitor: an SLA is breached
        return SlaBreach.exit_code
    if result.status == "refused":  # a plan its apply would refuse (grant plan: unknown principals)
        return UsageError.exit_code
    return 1


def guarded(ctx: typer.Context, json_out: bool, action: Callable[[State], T]) -> tuple[T, str]:
    """For a command that runs no job: the output format, then `action`, its errors as one line."""
    state = state_of(ctx)
    fmt = output_format(ctx, json_out)
    try:
        return action(state), fmt
    except typer.Exit:
        raise
    except BaseException as exc:
        fail(exc, verbose=state.verbose, as_json=fmt == "json")


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
        fail_usage(
            f"-o csv is not available for `lakectl {command_of(ctx)}`: its result has no main table",
            f"csv works with: {', '.join(CSV_COMMANDS)}; use -o json for the whole result",
            as_json=False,
        )
    return fmt


def load_settings_of(state: State, *, warn: bool = True) -> Settings:
    """The settings for this command line; without any config file, say where lakectl looked (unless not `warn`)."""
    from lakectl.config import DEFAULT_CONFIG, load_settings

    settings = load_settings(state.config)
    if warn and settings.source_file == "<defaults>":
        print(
            f"lakectl: warning: no config file (looked for {DEFAULT_CONFIG.absolute()}; --config and LAKECTL_CONFIG are not set): "
            f"using built-in defaults with the lake in {settings.storage.root_dir.absolute()}",
            file=sys.stderr,
        )
    return settings


def fail(exc: BaseException, *, verbose: bool, as_json: bool) -> NoReturn:
    """End the command on `exc`: one `lakectl: error:` line (and a JSON document for --json), its exit code."""
    from lakectl.core.errors import translate

    err = translate(exc)
    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    if as_json:
        print(
            json.dumps(
                {"status": "error", "error": {"kind": err.kind, "message": err.message, "hint": err.hint, "exit_code": err.exit_code}}
            )
        )
    # A stop the operator asked for (Ctrl-C, SIGTERM) is not an error: the line says what was committed.
    print(f"lakectl: {err.one_line()}" if err.kind == "interrupted" else f"lakectl: error: {err.one_line()}", file=sys.stderr)
    raise typer.Exit(err.exit_code)


def fail_usage(message: str, hint: str, *, as_json: bool) -> NoReturn:
    from lakectl.core.errors import UsageError

    fail(UsageError(message, hint), verbose=False, as_json=as_json)


def _run_remote(settings: Settings, state: State, job: str, params: dict[str, Any], run_id: str) -> Result:
    from lakectl.cli.status import StatusLine
    from lakectl.runners.dispatch import run_remote

    return run_remote(
        settings,
        state.target,
        job,
        params,
        run_id=run_id,
        timeout_s=state.timeout,
        wait=not state.no_wait,
        verbose=state.verbose,
        status_line=StatusLine,
    )


def _run_here(job_ctx: JobContext, job: str, params: dict[str, Any], *, tracked: bool, spinner: bool) -> Result:
    from lakectl.cli.status import spinner as spinning

    with spinning(job, shown=spinner):
        if tracked:
            from lakectl.jobs import run_job as run_recorded

            return run_recorded(job_ctx, job, params)
        from lakectl.core.results import Timer
        from lakectl.jobs import load_job

        with Timer() as t:
            result = load_job(job).run(job_ctx, params)
        result.duration_s = t.seconds
        return result


def _run_stages(job_ctx: JobContext, job: str, params: dict[str, Any], *, show: bool) -> Result:
    """A job of stages (run, demo): one ledger row as the parent the stages nest under, a line per stage."""
    from lakectl.cli.status import stage_progress
    from lakectl.jobs import load_job
    from lakectl.jobs.tracking import tracked

    with stage_progress(shown=show) as on_stage, tracked(job_ctx, job, params) as record:
        result = load_job(job).run(job_ctx, params, on_stage=on_stage)  # type: ignore[call-arg]
        result.metrics.setdefault("run_id", record.run_id)
        record.result = result
    return result
