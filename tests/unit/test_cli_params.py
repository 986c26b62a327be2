"""Parameters declared once (issue 26): every command's Click options against the Params model of the job it
runs. An option and the field it sets agree on the field's name, the default, the type, the choices (and their
order) and the bounds, so changing one without the other fails here. The check reads the Click commands users
get and the models through msgspec, not through lakectl.cli.params that derives one from the other."""

from __future__ import annotations

import typing
from datetime import datetime
from enum import Enum
from typing import Any

import msgspec
import pytest
import typer

from lakectl.cli.app import build
from lakectl.cli.options import JSON
from lakectl.cli.params import choices_text, option, options_from
from lakectl.core.sources import Source

# Commands that run no job, so have no Params model: their options are their own.
NOT_JOBS = {"deploy", "doctor", "init", "runs status", "runs logs", "runs cancel"}
CLI_ONLY = {"json_out"}  # --json chooses the output format; it is no job parameter


def _leaves(command: Any, path: str = "") -> dict[str, Any]:
    subs = getattr(command, "commands", None)
    if not subs:
        return {path: command}
    out: dict[str, Any] = {}
    for name, sub in subs.items():
        out.update(_leaves(sub, f"{path} {name}".strip()))
    return out


COMMANDS = _leaves(typer.main.get_command(build()))


def _bare(tp: Any) -> tuple[Any, list[Any]]:
    """(type without Annotated / None / list, its Meta constraints, is it a list)."""
    metas: list[Any] = []
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp, *extra = typing.get_args(tp)
            metas += [m for m in extra if isinstance(m, msgspec.Meta)]
        elif type(None) in typing.get_args(tp):
            tp = next(a for a in typing.get_args(tp) if a is not type(None))
        else:
            return tp, metas


def _field_view(info: Any) -> dict[str, Any]:
    """What a field says about its option: default, scalar type or choices, bounds, list or not."""
    tp, metas = _bare(info.type)
    is_list = typing.get_origin(tp) is list
    if is_list:
        tp, more = _bare(typing.get_args(tp)[0])
        metas += more
    if typing.get_origin(tp) is typing.Literal:
        choices = tuple(typing.get_args(tp))
    elif isinstance(tp, type) and issubclass(tp, Enum):
        choices = tuple(m.value for m in tp)
    else:
        choices = None
    if info.default is not msgspec.NODEFAULT:
        default = info.default
    elif info.default_factory is not msgspec.NODEFAULT:
        default = info.default_factory()
    else:
        default = ...
    return {
        "default": default.value if isinstance(default, Enum) else default,
        "type": tp,
        "choices": choices,
        "min": next((m.ge for m in metas if m.ge is not None), None),
        "max": next((m.le for m in metas if m.le is not None), None),
        "open": any(m.gt is not None or m.lt is not None for m in metas),
        "list": is_list,
    }


_CLICK_TYPES = {bool: "boolean", int: "int", float: "float", str: "str", datetime: "datetime"}  # Click type names


def _type_drift(where: str, click_type: Any, field: dict[str, Any]) -> list[str]:
    problems = []
    choices = getattr(click_type, "choices", None)
    if field["choices"] is not None or choices is not None:
        if tuple(choices or ()) != field["choices"]:
            problems.append(f"{where}: choices {list(choices or [])} but the model allows {list(field['choices'] or [])}")
        return problems
    name = click_type.name.replace(" range", "")
    if _CLICK_TYPES.get(field["type"]) != name:
        problems.append(f"{where}: parsed as {click_type.name} but the model says {field['type']}")
    bounds = (getattr(click_type, "min", None), getattr(click_type, "max", None))
    if bounds != (field["min"], field["max"]) or field["open"]:
        problems.append(
            f"{where}: bounds {bounds} but the model says ge/le {(field['min'], field['max'])}"
            + (" (and gt/lt, which a command line cannot show)" if field["open"] else "")
        )
    return problems


def drift(command: Any) -> list[str]:
    """Every disagreement between a Click command's options and the Params model its job reads."""
    model = getattr(command.callback, "params_model", None)
    declared = getattr(command.callback, "cli_options", {})
    fields = {f.name: _field_view(f) for f in msgspec.structs.fields(model)}
    problems = []
    for param in command.params:
        if param.name in CLI_ONLY or param.name == "help":
            continue
        opt = declared.get(param.name)
        where = f"{'/'.join(param.opts) or param.name}"
        if opt is None:
            problems.append(f"{where}: not derived from {model.__name__} (declare it in options_from)")
            continue
        names = opt.fields or (opt.field or param.name,)
        missing = [n for n in names if n not in fields]
        if missing:
            problems.append(f"{where}: {model.__name__} has no field {', '.join(missing)}")
            continue
        if opt.fields:  # one value per field (--export FORMAT DIR)
            for i, (n, t) in enumerate(zip(names, param.type.types)):
                problems += _type_drift(f"{where}[{i}] ({n})", t, fields[n])
            if param.default is not None or any(fields[n]["default"] is not None for n in names):
                problems.append(f"{where}: not given must mean each field's default None")
            continue
        field = fields[names[0]]
        many = param.multiple or param.nargs == -1
        if many != (field["list"] and not opt.single):
            problems.append(
                f"{where}: {'repeatable' if many else 'one value'} but {names[0]} is {'a list' if field['list'] else 'one value'}"
            )
        problems += _type_drift(where, param.type, field)
        default = param.default.value if isinstance(param.default, Enum) else param.default
        if param.required:
            continue  # stricter than the model (a value must be given): no default to compare
        if many:
            if default not in (None, ()):
                problems.append(f"{where}: a repeatable option's default must be `not given` (the field's {field['default']!r})")
        elif default != field["default"] or type(default) is not type(field["default"]):
            problems.append(f"{where}: default {default!r} but {model.__name__}.{names[0]} defaults to {field['default']!r}")
    return problems


class Dest(str, Enum):  # GenerateParams.to in another order
    kafka = "kafka"
    files = "files"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_declares_its_options_once(name):
    command = COMMANDS[name]
    if name in NOT_JOBS:
        assert getattr(command.callback, "params_model", None) is None, f"{name} runs a job now: take it off NOT_JOBS"
        return
    assert getattr(command.callback, "params_model", None) is not None, (
        f"`lakectl {name}` declares its options by hand: derive them from its job's Params model (options_from)"
    )
    assert drift(command) == [], f"lakectl {name}"


def test_the_check_finds_a_drifted_option():
    """A hand-written command whose options drift from GenerateParams: each kind of drift is reported."""
    from lakectl.jobs.params import GenerateParams

    def generate(
        ctx: typer.Context,
        events: int = typer.Option(1000, "--events", min=0),  # default drifted
        days: float = typer.Option(1.0, "--days", min=0.001),  # bound drifted
        to: Dest = typer.Option(Dest.files, "--to"),  # choices in another order
        seed: str = typer.Option("42", "--seed"),  # type drifted
        topic: list[str] | None = typer.Option(None, "--topic"),  # repeatable, the field is not
        colour: str | None = typer.Option(None, "--colour"),  # no such field
        json_out: bool = JSON,
    ) -> None:
        """Drifted."""

    declared = {n: option(help="") for n in ("events", "days", "to", "seed", "topic", "colour")}
    generate.params_model, generate.cli_options = GenerateParams, declared  # type: ignore[attr-defined]
    app = typer.Typer()
    app.command()(generate)
    found = "\n".join(drift(typer.main.get_command(app)))
    for expected in (
        "--events: default 1000",
        "--days: bounds (0.001, None)",
        "--to: choices ['kafka', 'files']",
        "--seed: parsed as str",
        "--topic: repeatable",
        "--colour: GenerateParams has no field colour",
    ):
        assert expected in found, found


def test_a_command_gets_the_models_defaults_when_no_option_is_given():
    """What reaches the job from a bare command line is the model's own default for every option."""
    from lakectl.cli.params import fields_of, params_of

    checked = 0
    for name, command in COMMANDS.items():
        model = getattr(command.callback, "params_model", None)
        if model is None or any(p.required for p in command.params):
            continue
        values = dict(command.make_context(name, [], resilient_parsing=True).params)
        values.pop("json_out")
        params = params_of(values, command.callback.cli_options, fields_of(model))
        defaults = {f.name: _field_view(f)["default"] for f in msgspec.structs.fields(model)}
        assert params == {k: defaults[k] for k in params}, name
        checked += 1
    assert checked >= 15


def test_one_source_enum_names_every_source():
    from lakectl.config import SourcesSettings
    from lakectl.jobs.params import GenerateParams, IngestParams, RunParams

    assert tuple(SourcesSettings.__struct_fields__) == tuple(Source), "a source has a config section of its name"
    for model in (IngestParams, RunParams):
        assert typing.get_type_hints(model)["source"] is Source
    for name in ("ingest", "run"):
        source = next(p for p in COMMANDS[name].params if p.name == "source")
        assert tuple(source.type.choices) == tuple(Source)
        assert choices_text(Source) in source.help  # "files, kafka, eventhubs or kinesis", from the enum
    assert set(typing.get_args(typing.get_type_hints(GenerateParams)["to"])) <= set(Source)  # generate writes to two of them


def test_options_from_refuses_a_bound_a_command_line_cannot_show():
    class Open(msgspec.Struct):
        ratio: typing.Annotated[float, msgspec.Meta(gt=0)] = 1.0

    with pytest.raises(TypeError, match="closed"):
        options_from(Open, ratio=option(help="x"))
