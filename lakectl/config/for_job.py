"""The config file as a remote job gets it: every `${VAR}` this machine can resolve is resolved here, so
a variable set only on the operator's machine still reaches the job. Three kinds of reference travel
unresolved, for the job to resolve from its own environment: those in a secret-looking key (a secret is
never uploaded), those naming a secret-looking variable, and those naming one of the target's `env:`
variables (the job's environment sets them: docs/targets.md).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from lakectl.config.loader import _NAME, _read_yaml, settings_from_dict
from lakectl.config.secrets import SECRET_KEY
from lakectl.core.errors import ConfigError


def config_for_job(file: Path, *, job_env: set[str]) -> bytes:
    """The YAML text of `file` with the client-side references resolved (validated first, as loaded here)."""
    import yaml

    text = file.read_text()
    raw = _read_yaml(file, text)
    settings_from_dict(raw, str(file))  # the same one-line errors as any command, before anything travels

    def keep(key: str, var: str) -> bool:
        return var in job_env or _secret(key) or _secret(var)

    resolved = _resolve(raw, keep, str(file), ())
    return yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True).encode()


def _secret(name: str) -> bool:
    return bool(SECRET_KEY.search(name)) and not name.endswith("_env")


def _resolve(value: Any, keep: Callable[[str, str], bool], source: str, path: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, keep, source, (*path, str(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, keep, source, (*path, str(i))) for i, v in enumerate(value)]
    if isinstance(value, str) and "${" in value:
        return partial(value, lambda var: keep(path[-1] if path else "", var), where=f"{source}: {'.'.join(path)}")
    return value


def partial(text: str, keep: Callable[[str], bool], *, where: str) -> str:
    """`text` with each ${VAR} / ${VAR:-default} resolved from this environment, except the references
    whose VAR `keep` names, which stay as written (defaults included) for the job to resolve."""
    from lakectl.config.loader import _expand

    out: list[str] = []
    i = 0
    while i < len(text):
        if not text.startswith("${", i):
            out.append(text[i])
            i += 1
            continue
        end = _reference_end(text, i, where)
        m = _NAME.match(text, i + 2)
        if m and keep(m.group()):
            out.append(text[i:end])
        else:
            value = _expand(text[i:end], 0, nested=False, where=where)[0]
            if "${" in value:
                var = m.group() if m else "a variable"
                raise ConfigError(
                    f"{where}: the value of {var} contains '${{', which the job would read as another reference",
                    f"remove it from {var}, or list {var} in the target's env: so the job resolves it",
                )
            out.append(value)
        i = end
    return "".join(out)


def _reference_end(text: str, i: int, where: str) -> int:
    """The index after the `}` closing the reference that starts at `text[i]` (defaults may nest)."""
    depth, j = 0, i
    while j < len(text):
        if text.startswith("${", j):
            depth += 1
            j += 2
            continue
        if text[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ConfigError(f"{where}: unclosed environment reference", "close ${VAR:-default} with }")
