"""`lakectl-job NAME --params JSON`: run one job and print its Result as one JSON line.

This is what a remote runner (Databricks python_wheel_task) submits, so it depends on nothing
but the job code: no Typer, no rich. Exit codes are the same as lakectl's.
"""

from __future__ import annotations

import argparse
import json
import sys

RESULT_PREFIX = "LAKECTL_RESULT "


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="lakectl-job", description=__doc__.splitlines()[0])
    parser.add_argument("job", help="job name, e.g. ingest")
    parser.add_argument("--params", dest="params_json", default="{}", help="job parameters as a JSON object")
    parser.add_argument("--config", default=None, help="config file (default: configs/lakectl.yaml or LAKECTL_CONFIG)")
    parser.add_argument("--target", default=None, help="target from the config")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--run-id", default=None, help="lakectl's run id (the submitting command's)")
    parser.add_argument("--on-cluster", action="store_true", help="inside a Databricks run: use the runtime's Spark session")
    parser.add_argument("--result-file", default=None, help="also write the result JSON to this file (read back by the submitter)")
    args = parser.parse_args(argv)
    sys.exit(run(**vars(args)))  # the flags are run()'s parameters


def run(
    job: str,
    params_json: str,
    *,
    config: str | None = None,
    target: str | None = None,
    verbose: bool = False,
    run_id: str | None = None,
    on_cluster: bool = False,
    result_file: str | None = None,
) -> int:
    from lakectl.core.errors import UsageError, translate

    try:
        try:
            params = json.loads(params_json)
        except ValueError as exc:
            raise UsageError(f"--params is not valid JSON: {exc}", 'pass a JSON object, e.g. \'{"source": "files"}\'') from exc
        if not isinstance(params, dict):
            raise UsageError("--params must be a JSON object")
        from lakectl.config import load_settings
        from lakectl.engine.context import JobContext
        from lakectl.jobs import run_job

        if on_cluster:
            from lakectl.runners.secret_refs import resolve_secret_refs

            resolve_secret_refs()

        settings = load_settings(config)
        ctx = JobContext(settings=settings, target_name=target, verbose=verbose, on_cluster=on_cluster)
        if run_id:
            ctx.run_id = run_id
        result = run_job(ctx, job, params)
    except BaseException as exc:
        err = translate(exc)
        if verbose:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        line = json.dumps(
            {"status": "error", "error": {"kind": err.kind, "message": err.message, "hint": err.hint, "exit_code": err.exit_code}}
        )
        _report(line, result_file)
        print(f"lakectl-job: error: {err.one_line()}", file=sys.stderr)
        return err.exit_code
    from lakectl.core.results import json_default

    _report(json.dumps(result.to_dict(), default=json_default), result_file)
    return 0 if result.status in ("ok", "dry_run") else 1


def _report(doc: str, result_file: str | None) -> None:
    """The result as the last line of the output and, when asked, as a file: a run's output reaches the
    submitter only as its last 5 MB, so a job that logs more still brings its result back."""
    if result_file:
        from pathlib import Path

        try:
            path = Path(result_file)
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            partial.write_text(doc)
            partial.replace(path)
        except OSError as exc:
            print(f"lakectl-job: warning: could not write the result file {result_file}: {exc}", file=sys.stderr)
    print(RESULT_PREFIX + doc, flush=True)


if __name__ == "__main__":
    main()
