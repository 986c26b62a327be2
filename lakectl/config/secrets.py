"""Secret-looking config keys: refused inline, masked in output, logs and ledgers."""

from __future__ import annotations

import re
from typing import Any

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
# A Databricks secret reference: the name of a secret, resolved on the cluster (targets.*.env only).
SECRET_REF = re.compile(r"\{\{secrets/([^/{}\s]+)/([^/{}\s]+)\}\}")
SECRET_KEY = re.compile(r"(password|secret|token|jaas|connection_string|sasl\.jaas|access_key)", re.I)
_URL_USERINFO = re.compile(r"(?<=://)[^/@\s]+@")  # user:password@ in a URL value (e.g. score's endpoint)
_URL_SECRET_QUERY = re.compile(r"(?i)([?&](?:token|password|secret|key|sig)[^=&\s]*=)[^&\s#]+")


def mask_secrets(value: Any, key: str = "") -> Any:
    """A copy with every secret-looking value replaced by '***' (for logs, ledgers and output)."""
    if isinstance(value, dict):
        return {k: mask_secrets(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_secrets(v, key) for v in value]
    if isinstance(value, str) and key and SECRET_KEY.search(key) and not key.endswith("_env"):
        return "***"
    if isinstance(value, str) and "://" in value:
        return _URL_SECRET_QUERY.sub(r"\1***", _URL_USERINFO.sub("***@", value))
    return value
