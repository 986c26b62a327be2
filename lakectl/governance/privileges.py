"""Privileges per securable type, in Databricks' spelling (the one the policy file uses)."""

from __future__ import annotations

SECURABLE_TYPES = ("catalog", "schema", "table", "volume", "function", "registered_model")
# policy file section -> securable type, and the number of name parts
SECTIONS = {
    "catalogs": ("catalog", 1),
    "schemas": ("schema", 2),
    "tables": ("table", 3),
    "volumes": ("volume", 3),
    "functions": ("function", 3),
    "registered_models": ("registered_model", 3),
}

_CHILD = ["SELECT", "MODIFY", "EXECUTE", "READ_VOLUME", "WRITE_VOLUME", "REFRESH"]
_CREATE = ["CREATE_TABLE", "CREATE_FUNCTION", "CREATE_VOLUME", "CREATE_MODEL", "CREATE_MATERIALIZED_VIEW"]
_COMMON = ["ALL_PRIVILEGES", "APPLY_TAG", "MANAGE"]

PRIVILEGES: dict[str, frozenset[str]] = {
    "catalog": frozenset(
        _COMMON
        + _CHILD
        + _CREATE
        + [
            "USE_CATALOG",
            "USE_SCHEMA",
            "CREATE_SCHEMA",
            "BROWSE",
            "CREATE_EXTERNAL_TABLE",
            "CREATE_EXTERNAL_VOLUME",
            "CREATE_MANAGED_STORAGE",
        ]
    ),
    "schema": frozenset(
        _COMMON + _CHILD + _CREATE + ["USE_SCHEMA", "CREATE_EXTERNAL_TABLE", "CREATE_EXTERNAL_VOLUME", "CREATE_MANAGED_STORAGE"]
    ),
    "table": frozenset(_COMMON + ["SELECT", "MODIFY", "REFRESH"]),
    "volume": frozenset(_COMMON + ["READ_VOLUME", "WRITE_VOLUME"]),
    "function": frozenset(_COMMON + ["EXECUTE"]),
    "registered_model": frozenset(_COMMON + ["EXECUTE"]),
}

# Privileges that confer the power to manage (grant on) a securable.
MANAGING = frozenset({"MANAGE", "ALL_PRIVILEGES"})

# What the open-source server 0.6.0 knows (its Privilege enum), spelled the Databricks way.
OSS_KNOWN = frozenset(
    {
        "CREATE_CATALOG",
        "USE_CATALOG",
        "CREATE_SCHEMA",
        "USE_SCHEMA",
        "CREATE_TABLE",
        "SELECT",
        "MODIFY",
        "CREATE_FUNCTION",
        "EXECUTE",
        "CREATE_VOLUME",
        "READ_VOLUME",
        "CREATE_MODEL",
        "CREATE_EXTERNAL_LOCATION",
        "READ_FILES",
        "WRITE_FILES",
        "CREATE_EXTERNAL_TABLE",
        "CREATE_EXTERNAL_VOLUME",
        "CREATE_MANAGED_STORAGE",
        "CREATE_STORAGE_CREDENTIAL",
    }
)


def to_oss(privilege: str) -> str:
    """USE_CATALOG -> 'USE CATALOG' (the open-source server spells privileges with spaces)."""
    return privilege.replace("_", " ")


def from_oss(privilege: str) -> str:
    return privilege.strip().upper().replace(" ", "_")
