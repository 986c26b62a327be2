"""A job command's options, derived from the job's Params model (lakectl.jobs.params).

The model says what a parameter is: its name, type, choices, closed bounds and default. The command line adds
only what a command line needs: flags, help text, a metavar. `options_from` builds the Typer signature from
both, so nothing the model says is written again here; tests/unit/test_cli_params.py checks every command's
Click options against its model."""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from datetime import datetime
from enum import Enum
from typing import Any, Optional

import msgspec
import typer

from lakectl.cli.options import DRY_RUN as DRY_RUN_FLAG
from lakectl.cli.options import JSON

NO_DEFAULT = ...  # Typer's mark of a required parameter
_SCALARS = (bool, int, float, str, datetime)


class Opt:
    """What the command line adds to a Params field (build it with `option` or `argument`)."""

    __slots__ = ("flags", "help", "field", "fields", "argument", "single", "required", "metavar", "show_default", "convert")

    def __init__(
        self,
        *flags: str,
        help: str,
        field: str | None = None,
        fields: tuple[str, ...] = (),
        argument: bool = False,
        single: bool = False,
        required: bool = False,
        metavar: str | None = None,
        show_default: bool = True,
        convert: Callable[[Any], Any] | None = None,
    ) -> None:
        self.flags = flags  # without a --long flag, `--<name>` is added
        self.help = help
        self.field = field  # the Params field it sets (default: the option's own name)
        self.fields = fields  # an option of several values (--export FORMAT DIR): the field each one sets
        self.argument = argument
        self.single = single  # one value of a list field (`grant show SECURABLE`)
        self.required = required  # required although the field has a default
        self.metavar = metavar
        self.show_default = show_default
        self.convert = convert  # the command line's spelling to the field's value (COL,COL -> [COL, COL])


def option(*flags: str, help: str, **kw: Any) -> Opt:
    return Opt(*flags, help=help, **kw)


def argument(*, help: str, **kw: Any) -> Opt:
    return Opt(help=help, argument=True, **kw)


DRY_RUN = option(help=DRY_RUN_FLAG.help)  # --dry-run, as the commands without a Params model say it


class Field:
    """A Params field as the command line sees it."""

    __slots__ = ("name", "type", "optional", "default", "ge", "le")

    def __init__(self, name: str, tp: Any, optional: bool, default: Any, ge: float | None, le: float | None) -> None:
        self.name = name
        self.type = tp  # without Annotated and None
        self.optional = optional  # None is allowed
        self.default = default  # NO_DEFAULT when required
        self.ge, self.le = ge, le

    @property
    def is_list(self) -> bool:
        return typing.get_origin(self.type) is list

    @property
    def item(self) -> Any:
        return typing.get_args(self.type)[0] if self.is_list else self.type


@functools.cache
def fields_of(model: type) -> dict[str, Field]:
    """The fields of a Params model (a msgspec Struct)."""
    out = {}
    for info in msgspec.structs.fields(model):
        tp, metas = _bare(info.type)
        optional = _is_optional(tp)
        if optional:
            tp, more = _bare(next(a for a in typing.get_args(tp) if a is not type(None)))
            metas += more
        if any(m.gt is not None or m.lt is not None for m in metas):
            raise TypeError(f"{model.__name__}.{info.name}: a bound the command line shows is closed (ge/le), not gt/lt")
        if info.default is not msgspec.NODEFAULT:
            default = info.default
        elif info.default_factory is not msgspec.NODEFAULT:
            default = info.default_factory()
        else:
            default = NO_DEFAULT
        ge = next((m.ge for m in metas if m.ge is not None), None)
        le = next((m.le for m in metas if m.le is not None), None)
        out[info.name] = Field(info.name, tp, optional, default, ge, le)
    return out


def options_from(model: type, /, **options: Opt) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """A Typer command whose options (in this order, then --json) set `model`'s fields; the decorated function
    receives (ctx, params, json_out) with params keyed by field and holding plain values."""
    fields = fields_of(model)

    def decorate(body: Callable[..., None]) -> Callable[..., None]:
        parameters = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
        for name, opt in options.items():
            annotation, default = _typer_parameter(name, opt, fields)
            parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
        parameters.append(inspect.Parameter("json_out", inspect.Parameter.KEYWORD_ONLY, default=JSON, annotation=bool))

        def command(ctx: typer.Context, **values: Any) -> None:
            json_out = values.pop("json_out")
            body(ctx, params_of(values, options, fields), json_out)

        for attr in ("__module__", "__name__", "__qualname__", "__doc__"):
            setattr(command, attr, getattr(body, attr))
        command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        command.params_model, command.cli_options = model, options  # type: ignore[attr-defined]  (for the drift test)
        return command

    return decorate


def params_of(values: dict[str, Any], options: dict[str, Opt], fields: dict[str, Field]) -> dict[str, Any]:
    """The command line's values as the job's parameters: keyed by field, Enums as their values, a list not
    given as the field's default."""
    params: dict[str, Any] = {}
    for name, opt in options.items():
        value = opt.convert(values[name]) if opt.convert else values[name]
        if opt.fields:
            for i, f in enumerate(opt.fields):
                params[f] = fields[f].default if value is None else _plain(value[i])
            continue
        f = fields[opt.field or name]
        if opt.single:
            params[f.name] = [_plain(value)]
        elif f.is_list:
            params[f.name] = [_plain(v) for v in value] if value else f.default
        else:
            params[f.name] = _plain(value)
    return params


def choices_text(values: Any) -> str:
    """'files, kafka, eventhubs or kinesis': a choice of names as a sentence says it."""
    names = [str(v.value if isinstance(v, Enum) else v) for v in values]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _typer_parameter(name: str, opt: Opt, fields: dict[str, Field]) -> tuple[Any, Any]:
    """(annotation, typer.Option/Argument) of one option. The value's metavar says what it is (FILE, N, SECONDS;
    lakectl.cli.help.metavar_for) unless the option gives one; bounds read as people say them ('1 to 100')."""
    from lakectl.cli.help import Finite, argument_type, metavar_for, range_type
    from lakectl.cli.values import checked_type

    kw: dict[str, Any] = {"help": opt.help, "show_default": opt.show_default}
    if opt.metavar is not None:
        kw["metavar"] = opt.metavar
    if opt.fields:  # several values, each of its field's type: an optional tuple
        annotation = Optional[tuple[tuple(_cli_type(fields[f].type, f) for f in opt.fields)]]  # type: ignore[misc]
        default: Any = None
    else:
        f = fields[opt.field or name]
        scalar = _bare(f.item)[0]
        if f.ge is not None or f.le is not None:
            kw["click_type"] = range_type(scalar, f.ge, f.le)
        elif scalar is float:
            kw["click_type"] = Finite()
        if scalar is str and not opt.argument and (checked := checked_type(f.name)) is not None:
            kw["click_type"] = checked  # a value a job would refuse late: refused at once, exit 2
        if opt.argument and "click_type" not in kw and not opt.fields and (plain := argument_type(scalar)) is not None:
            kw["click_type"] = plain
        if "metavar" not in kw and not opt.argument:
            choices = _choice_values(scalar)
            if choices is not None:
                kw["metavar"] = "|".join(choices) if len("|".join(choices)) <= 16 else name.upper().rstrip("S")
                kw["help"] = _with_choices(opt.help, choices)
            elif (metavar := metavar_for(f.name, scalar)) is not None:
                kw["metavar"] = metavar
        if opt.single:
            annotation, default = _cli_type(f.item, f.name), NO_DEFAULT
        elif f.is_list:  # repeatable; not given: the field's default
            annotation, default = Optional[list[_cli_type(f.item, f.name)]], None  # type: ignore[misc]
        else:
            annotation = _cli_type(f.type, f.name)
            default = f.default
            if isinstance(annotation, type) and issubclass(annotation, Enum) and default not in (None, NO_DEFAULT):
                default = annotation(default)
            if f.optional:
                annotation = Optional[annotation]
        if opt.required:
            default = NO_DEFAULT
    if opt.argument:
        return annotation, typer.Argument(default, **kw)
    flags = opt.flags if any(fl.startswith("--") for fl in opt.flags) else (f"--{name.replace('_', '-')}", *opt.flags)
    return annotation, typer.Option(default, *flags, **kw)


def _choice_values(tp: Any) -> list[str] | None:
    if typing.get_origin(tp) is typing.Literal:
        return [str(a) for a in typing.get_args(tp)]
    if isinstance(tp, type) and issubclass(tp, Enum):
        return [str(m.value) for m in tp]
    return None


def _with_choices(help_text: str, choices: list[str]) -> str:
    """The help names every choice (a metavar too long for the column does not)."""
    if all(c in help_text for c in choices):
        return help_text
    return f"{help_text.rstrip('.')}; one of {choices_text(choices)}."


def _cli_type(tp: Any, name: str) -> Any:
    """The type Typer parses: a Literal becomes an Enum of its strings (Click's choice)."""
    tp, _ = _bare(tp)
    if typing.get_origin(tp) is typing.Literal:
        return _choices(name, typing.get_args(tp))
    if tp in _SCALARS or (isinstance(tp, type) and issubclass(tp, Enum)):
        return tp
    raise TypeError(f"{name}: the command line cannot parse {tp!r}")


@functools.cache
def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    return Enum(name, {v: v for v in values}, type=str)  # type: ignore[return-value]


def _bare(tp: Any) -> tuple[Any, list[Any]]:
    """A type without Annotated, and the Meta objects it carried."""
    metas: list[Any] = []
    while typing.get_origin(tp) is typing.Annotated:
        args = typing.get_args(tp)
        tp, metas = args[0], metas + [a for a in args[1:] if isinstance(a, msgspec.Meta)]
    return tp, metas


def _is_optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in typing.get_args(tp)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, Enum) else value
