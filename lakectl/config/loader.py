"""Reading a config file: YAML (or its cached parse), ${ENV} interpolation, validation into `Settings`."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from lakectl.config.secrets import ENV_REF, SECRET_KEY, SECRET_REF
from lakectl.config.settings import Settings
from lakectl.config.storage import DEFAULT_TABLES
from lakectl.core.errors import ConfigError
from lakectl.core.typed import InvalidValue, parse

DEFAULT_CONFIG = Path("configs/lakectl.yaml")


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get("LAKECTL_CONFIG")
    return Path(env) if env else DEFAULT_CONFIG


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load, interpolate and validate a config file; a missing default file gives built-in defaults."""
    file = config_path(path)
    if not file.exists():
        if path is None and "LAKECTL_CONFIG" not in os.environ:
            root = os.environ.get("LAKECTL_ROOT")  # what the shipped config's ${LAKECTL_ROOT:-.lakectl} honours too
            return settings_from_dict({"storage": {"root": root}}, "<defaults>") if root else Settings(source_file="<defaults>")
        raise ConfigError(f"config file not found: {file}", "pass --config PATH or set LAKECTL_CONFIG")
    from lakectl.core.cache import cached_config, store_config
    from lakectl.core.textfiles import read_utf8

    text = read_utf8(file, "config file")
    raw = cached_config(text)
    if raw is not None:
        return settings_from_dict(raw, str(file))
    raw = _read_yaml(file, text)
    settings = settings_from_dict(raw, str(file))
    store_config(text, raw)
    return settings


def _read_yaml(file: Path, text: str) -> dict[str, Any]:
    import yaml

    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{file}{where}: invalid YAML: {problem}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: the top level must be a mapping of keys")
    return raw


def settings_from_dict(raw: dict[str, Any], source: str = "<dict>") -> Settings:
    hint = "see the configuration reference in the README"
    for key in ("source_file", "tables_by_path"):
        if key in raw:
            raise ConfigError(f"{source}: {key}: unknown key", hint)
    try:
        _reject_inline_secrets(raw, source, ())
        data = _interpolate(raw, source, ())
        settings = parse(data, Settings)
    except InvalidValue as exc:
        raise ConfigError(f"{source}: {' '.join(str(exc).split())}", hint) from None
    except RecursionError:  # a YAML alias that contains itself (a: &x [*x]), or absurd nesting
        raise ConfigError(f"{source}: the configuration nests too deeply or refers to itself", hint) from None
    settings.source_file = source
    _check_table_keys(settings, source)
    return settings


def _check_table_keys(settings: Settings, source: str) -> None:
    """A key under `tables:` that is not a lakectl table but close to one is a typo: its policy
    would silently apply to nothing. Other new keys (a table of your own with a `path`) are kept."""
    import difflib

    for key in settings.tables:
        if key in DEFAULT_TABLES:
            continue
        schema = key.partition(".")[0]
        same_schema = [t for t in DEFAULT_TABLES if t.partition(".")[0] == schema]
        close = difflib.get_close_matches(key, same_schema, n=1, cutoff=0.8)
        if close:  # (a new table in another schema, e.g. gold.review_scores next to ops.review_scores, is fine)
            raise ConfigError(f"{source}: tables.{key}: unknown table", f"did you mean {close[0]}?")


def _interpolate(value: Any, source: str, path: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, source, path + (str(k),)) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, source, path + (str(i),)) for i, v in enumerate(value)]
    if isinstance(value, str):
        if "\x00" in value:
            raise ConfigError(f"{source}: {'.'.join(path)}: contains a NUL character", "remove it")
        if "${" in value:
            return _expand(value, 0, nested=False, where=f"{source}: {'.'.join(path)}")[0]
    return value


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _expand(text: str, i: int, *, nested: bool, where: str) -> tuple[str, int]:
    """Resolve ${VAR} and ${VAR:-default} (defaults may nest) from `text[i:]`; values from the
    environment are inserted as they are, never expanded again. Nested: stop at the closing brace
    of the enclosing reference. Anything else after `${` is an error, not a literal."""
    out: list[str] = []
    while i < len(text):
        if nested and text[i] == "}":
            return "".join(out), i + 1
        if not text.startswith("${", i):
            out.append(text[i])
            i += 1
            continue
        m = _NAME.match(text, i + 2)
        end = m.end() if m else i + 2
        if m and text.startswith("}", end):
            var, default, i = m.group(), None, end + 1
        elif m and text.startswith(":-", end):
            var = m.group()
            default, i = _expand(text, end + 2, nested=True, where=where)
        else:
            raise ConfigError(
                f"{where}: malformed environment reference at character {i + 1}",  # the value may be secret
                "write ${VAR} or ${VAR:-default} (VAR: letters, digits, _)",
            )
        if var in os.environ:
            out.append(os.environ[var])
        elif default is not None:
            out.append(default)
        else:
            raise ConfigError(f"{where}: environment variable {var} is not set", f"export {var}=... or write ${{{var}:-default}}")
    if nested:
        raise ConfigError(f"{where}: unclosed environment reference", "close ${VAR:-default} with }")
    return "".join(out), i


def _reject_inline_secrets(value: Any, source: str, path: tuple[str, ...]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _reject_inline_secrets(v, source, path + (str(k),))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _reject_inline_secrets(v, source, path + (str(i),))
    elif isinstance(value, str) and path and SECRET_KEY.search(path[-1]) and not path[-1].endswith("_env"):
        if len(path) == 4 and path[0] == "targets" and path[2] == "env":
            if SECRET_REF.fullmatch(value):
                return  # a job's environment variable naming a Databricks secret: a reference, not the secret
            raise ConfigError(
                f"{source}: {'.'.join(path)}: a job's secret must be a Databricks secret reference (it is sent with the job)",
                "write {{secrets/<scope>/<key>}} (databricks secrets put-secret <scope> <key>)",
            )
        if value and not ENV_REF.search(value):
            raise ConfigError(
                f"{source}: {'.'.join(path)}: secrets must come from the environment",
                "write ${SOME_ENV_VAR} instead of the value",
            )
