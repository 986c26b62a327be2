"""No traceback on any command line: random flags and values for every command (read from the real
Click commands, so new options are fuzzed too) run in-process through the real CLI and the real jobs.
The target is a Spark Connect server that is not there (a closed loopback port): whatever gets past
the command line and the job's own checks ends in `source unavailable` (exit 4) in milliseconds
instead of starting a JVM. The monitor commands run for real on an empty lake (delta-rs, no JVM).

The result must be success or one `lakectl: error:` line with exit 2/3/4 (7 for `monitor check`),
never a traceback, never exit 1. Deterministic (derandomize); cases found while developing are
pinned with @example."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lakectl.cli.app import build

FUZZ = hsettings(
    max_examples=400,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
EXHAUSTIVE = pytest.mark.skipif(not os.environ.get("LAKECTL_EXHAUSTIVE"), reason="exhaustive variant: set LAKECTL_EXHAUSTIVE=1")
APP = build()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORT = _closed_port()


def _commands() -> dict[str, object]:
    """'ingest' -> its Click command; 'monitor runs' -> the subcommand's."""
    import typer

    root = typer.main.get_command(APP)
    out = {}
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(cmd, "commands", None)
        if subs:
            out.update({f"{name} {sub}": c for sub, c in subs.items()})
        else:
            out[name] = cmd
    return out


# Every command; `doctor --json` printed no error line on a failed check until it was fuzzed.
COVERED = (
    "generate",
    "ingest",
    "transform",
    "demo",
    "monitor",
    "optimize",
    "aggregate",
    "query",
    "run",
    "train",
    "score",
    "model",
    "grant",
    "deploy",
    "runs",
    "init",
    "doctor",
)
COMMANDS = {name: cmd for name, cmd in _commands().items() if name.split()[0] in COVERED}
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12).filter(lambda s: not s.startswith(("/", "~")))
WEIRD = st.sampled_from(
    [
        "",
        "-",
        "--",
        "-1",
        "0",
        "1e309",
        "nan",
        "inf",
        "${X}",
        "a,b,,",
        "x" * 300,
        "é",
        "\n",
        "silver.events",
        "bronze.events",
        "nope.nope",
        "a.b.c",
        "168h",
        "0h",
        "7d",
        "-5d",
        "128m",
        "csv",
        "parquet",
        "json",
        "files",
        "kafka",
        "2026-01-01",
        "2026-13-45",
        "SELECT 1",
        f"127.0.0.1:{PORT}",
        "sc://127.0.0.1:1",
        "10 seconds",
        "0 seconds",
        "forever",
        "event_date >= '2026-01-01'",
        "1; DROP TABLE x",
        "customer_id",
        "`x`",
        "-n",
    ]
)


def _value(param: object, draw: st.DrawFn) -> list[str]:
    kind = getattr(param, "type", None)
    kind_name = getattr(kind, "name", "")  # Click's parameter type names: choice, integer range, float...
    nargs = max(1, getattr(param, "nargs", 1) or 1)
    if hasattr(kind, "choices"):
        pool = st.one_of(st.sampled_from([str(c) for c in kind.choices]), WEIRD)
    elif any(word in kind_name for word in ("integer", "float")):
        pool = st.one_of(st.integers(-3, 2000).map(str), st.sampled_from(["0", "-1", str(2**70), "1e400", "0.5", "abc"]), WEIRD)
    else:
        pool = st.one_of(WEIRD, TEXT)
    return [draw(pool) for _ in range(nargs)]


@st.composite
def command_lines(draw: st.DrawFn, names: list[str] | None = None) -> list[str]:
    name = draw(st.sampled_from(names or sorted(COMMANDS)))
    cmd = COMMANDS[name]
    argv: list[str] = []
    if draw(st.booleans()):
        argv.append("--json")
    if draw(st.integers(0, 9)) == 0:
        argv += ["--target", draw(st.sampled_from(["nope", "dbx", "cluster", ""]))]  # never one that starts a JVM
    argv += name.split()
    options = [p for p in cmd.params if p.opts and p.opts[0] not in ("--help",)]  # type: ignore[attr-defined]
    arguments = [p for p in cmd.params if not p.opts or p.param_type_name == "argument"]  # type: ignore[attr-defined]
    for param in draw(st.lists(st.sampled_from(options), max_size=4)) if options else []:
        flag = draw(st.sampled_from(list(param.opts) + list(getattr(param, "secondary_opts", []))))
        argv.append(flag)
        if not getattr(param, "is_flag", False) and not getattr(param, "count", False):
            argv += _value(param, draw)
    for param in arguments:
        if param.param_type_name == "argument" and draw(st.integers(0, 4)) > 0:
            argv += _value(param, draw)
    if draw(st.integers(0, 9)) == 0:
        argv.insert(draw(st.integers(0, len(argv))), draw(st.sampled_from(["--nope", "-z", "extra", "--json=1", "--limit"])))
    if any(getattr(p, "name", "") == "kafka_timeout" for p in cmd.params) and "--" not in argv:  # type: ignore[attr-defined]
        argv += ["--kafka-timeout", "0.2"]  # no broker here: bound the wait (last, so a drawn value is parsed but never waited for)
    if name in ("generate", "demo"):  # bounded: the default is 100,000 events
        argv += ["--events", "50"] if "--dry-run" not in argv else []
    return argv


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz-cli")
    cfg = root / "lakectl.yaml"
    cfg.write_text(
        "default_target: cluster\n"
        "targets:\n"
        "  dbx: {kind: databricks, host: 'https://127.0.0.1:1', connect_timeout_s: 1}\n"
        f"  cluster: {{kind: spark, remote: 'sc://127.0.0.1:{PORT}', connect_timeout_s: 0.5}}\n"
        f"storage: {{root: {root / 'lake'}}}\n"
        f"sources:\n  kafka: {{bootstrap_servers: '127.0.0.1:{PORT}', connect_timeout_s: 0.5}}\n"
        "  eventhubs: {namespace: '127.0.0.1', connect_timeout_s: 0.5}\n"
    )
    return root


@pytest.fixture
def invoke(lake, monkeypatch):
    monkeypatch.chdir(lake)
    monkeypatch.setenv("LAKECTL_CONFIG", str(lake / "lakectl.yaml"))
    monkeypatch.setenv("LAKECTL_LEDGER", "off")
    monkeypatch.setenv("LAKECTL_CACHE", str(lake / "cache"))
    monkeypatch.delenv("LAKECTL_TARGET", raising=False)
    monkeypatch.delenv("EVENTHUBS_CONNECTION_STRING", raising=False)
    runner = CliRunner()

    def run(argv: list[str]):
        return runner.invoke(APP, argv, catch_exceptions=True)

    return run


def _check(argv: list[str], out) -> None:
    text = f"argv={argv!r}\nexit={out.exit_code}\nstdout={out.stdout[-2000:]}\nstderr={out.stderr[-2000:]}\nexc={out.exception!r}"
    if out.exception is not None and not isinstance(out.exception, SystemExit):
        raise AssertionError(f"uncaught exception\n{text}") from out.exception
    allowed = {0, 2, 3, 4} | ({7} if "check" in argv else set())
    allowed |= {6} if {"ingest", "transform"} & set(argv) else set()  # a --path/--checkpoint of another source
    assert out.exit_code in allowed, text
    assert "Traceback" not in out.stdout + out.stderr, text
    if out.exit_code != 0:
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("lakectl: error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], text
        # anything before it is lakectl's own progress or warning lines (`lakectl run: transform started`)
        assert all(line.startswith("lakectl") for line in lines), text
    if "--json" in argv and out.exit_code != 0 and out.stdout.strip():
        json.loads(out.stdout)  # one document, also for errors


@given(argv=command_lines())
@FUZZ
@example(argv=["transform", "--batch", "--continuous"])
@example(argv=["query"])
@example(argv=["--json", "query", "SELECT 1", "--limit", str(2**70)])
@example(argv=["optimize", "--retain", "-5d", "--vacuum"])
@example(argv=["optimize", "--zorder", "a", "--cluster-by", "b"])
@example(argv=["aggregate", "--export", "xml", "out"])
@example(argv=["generate", "--start", "2026-13-45", "--dry-run"])
@example(argv=["generate", "--days", "nan", "--dry-run"])
@example(argv=["generate", "--days", "inf", "--dry-run"])
@example(argv=["ingest", "--source", "kafka", "--topic", "a", "--topic-pattern", "b"])
@example(argv=["ingest", "--source", "eventhubs"])
@example(argv=["ingest", "--trigger-interval", "forever", "--continuous"])
@example(argv=["monitor", "report", "--html", ""])
@example(argv=["monitor", "report", "--html", "."])
@example(argv=["monitor", "check", "--junit", "."])
@example(argv=["monitor", "check", "--junit", "x" * 300])
@example(argv=["run", "--source", "kafka"])  # connect_timeout_s 0.5 < librdkafka's 1 s minimum
@example(argv=["monitor", "tables", "--table", "a.b.c"])
@example(argv=["--target", "nope", "monitor", "runs"])
@example(argv=["run", "--skip", "ingest", "--skip", "ingest"])
@example(argv=["--json", "monitor", "quality", "--since-hours", "1180591620717411303424"])
@example(argv=["monitor", "runs", "--since-hours", "1e309"])
@example(argv=["--json", "doctor"])
@example(argv=["init", "-"])
@example(argv=["grant", "plan"])
@example(argv=["grant", "show", "a.b.c"])
@example(argv=["model", "list"])
@example(argv=["train", "--dry-run"])
@example(argv=["score"])
@example(argv=["--target", "dbx", "runs", "status", "12"])
@example(argv=["--target", "dbx", "deploy", "--dry-run"])
def test_any_command_line_is_success_or_one_error_line(argv, invoke):
    _check(argv, invoke(argv))


@pytest.mark.slow
@EXHAUSTIVE
@given(argv=command_lines())
@hsettings(max_examples=3000, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_any_command_line_exhaustive(argv, invoke):
    _check(argv, invoke(argv))


# --- `lakectl-job NAME --params JSON`: what a remote runner submits ---------------------------------


def _param_fields() -> dict[str, list[str]]:
    """Each job's parameter names, read from its *Params model."""
    import importlib

    import msgspec

    from lakectl.jobs import JOBS

    out = {}
    for name, module in JOBS.items():
        models = [
            v
            for v in vars(importlib.import_module(module)).values()
            if isinstance(v, type) and issubclass(v, msgspec.Struct) and v.__name__.endswith("Params")
        ]
        out[name] = sorted({f for m in models for f in m.__struct_fields__})
    return out


FIELDS = _param_fields()
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False), WEIRD, TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def job_params(draw: st.DrawFn) -> tuple[str, str]:
    job = draw(st.sampled_from(sorted(FIELDS)))
    keys = st.one_of(st.sampled_from(FIELDS[job] or ["x"]), TEXT)
    params = draw(st.dictionaries(keys, JSON_VALUES, max_size=4))
    if job in ("generate", "demo"):
        params["events"], params["dry_run"] = 50, job == "generate"
    if job == "monitor" and draw(st.booleans()):
        params["action"] = draw(st.sampled_from(["runs", "tables", "streams", "quality", "check"]))
    text = draw(st.one_of(st.just(json.dumps(params)), st.just(json.dumps(params)), st.sampled_from(["", "[]", "1", "{", "null"])))
    return job, text


@given(case=job_params())
@hsettings(FUZZ, max_examples=100)
@example(case=("transform", '{"max_files_per_trigger": -1}'))
@example(case=("optimize", '{"tables": "silver.events"}'))
@example(case=("query", '{"sql": 1}'))
@example(case=("nope", "{}"))
def test_any_job_params_are_success_or_one_error_line(case, invoke, capsys):
    from lakectl.runners.jobentry import run

    job, text = case
    code = run(job, text)
    out, err = capsys.readouterr()
    assert code in {0, 2, 3, 4, 6}, f"{job} {text}: exit {code}\n{err}"
    assert "Traceback" not in out + err
    if code:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines and lines[-1].startswith("lakectl-job: error: "), err
        assert json.loads(out.splitlines()[-1].removeprefix("LAKECTL_RESULT "))["error"]["exit_code"] == code
