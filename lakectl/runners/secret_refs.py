"""Databricks secret references (`{{secrets/scope/key}}`) left in a job's environment, resolved when
lakectl-job starts. A new job cluster resolves its `spark_env_vars` references itself when it starts;
the serverless jobs' environment variables are documented as plain values, so what is still a reference
there is read here through the workspace's secrets API with the run's own credentials. Values are
never printed."""

from __future__ import annotations

import base64
import os
from collections.abc import MutableMapping

from lakectl.config.secrets import SECRET_REF


def resolve_secret_refs(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Replace each environment variable whose whole value is a secret reference by the secret; the names."""
    env = os.environ if environ is None else environ
    refs = {name: m for name, value in env.items() if (m := SECRET_REF.fullmatch(value))}
    if not refs:
        return []
    from databricks.sdk import WorkspaceClient

    from lakectl.core.errors import ConfigError

    w = WorkspaceClient()  # the run's own credentials (the runtime's)
    for name, ref in sorted(refs.items()):
        scope, key = ref.group(1), ref.group(2)
        try:
            value = w.secrets.get_secret(scope, key).value or ""
        except Exception as exc:  # noqa: BLE001 - any failure is one line naming the reference, never a value
            raise ConfigError(
                f"environment variable {name}: secret {scope}/{key} could not be read ({type(exc).__name__}: {str(exc).splitlines()[0][:200]})",
                "check the scope and key, and that the job's identity may READ the scope",
            ) from None
        env[name] = base64.b64decode(value).decode()
    return sorted(refs)
