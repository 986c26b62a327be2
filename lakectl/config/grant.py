"""`grant`: the policy file and the Unity Catalog server it is applied to."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, field

from lakectl.core.typed import Struct


class GrantSla(Struct):
    grants_drift: Literal["off", "fail"] = "off"  # `monitor check`: grants that differ from the policy are a breach


class GrantSettings(Struct):
    """`lakectl grant`: the policy file and the Unity Catalog server it is applied to (docs/grant.md)."""

    policy: str = "configs/grants.yaml"
    # auto: Databricks' Unity Catalog (databricks-sdk) on a `databricks` target, else the server at `url` over HTTP
    backend: Literal["auto", "uc_oss", "databricks"] = "auto"
    url: str = "http://127.0.0.1:8081"  # scripts/uc-local's API port (UC_PORT+1)
    token_env: str = "UC_TOKEN"  # the bearer token comes from this variable ...
    auth_file: str | None = None  # ... or from this file (the local server's etc/conf/token.txt); never printed
    admins: list[str] = field(default_factory=lambda: ["admin"])  # metastore admins: never revoked
    threads: Annotated[int, Meta(ge=1, le=32)] = 4  # parallel requests to the server
    timeout_s: Annotated[float, Meta(gt=0)] = 10.0
    sla: GrantSla = field(default_factory=GrantSla)
