"""Create on a local Unity Catalog server what a grants policy names, so the policy can be tried there.

A real catalog already has its users and objects; a fresh local server has none, and `grant plan` on the
example policy would stop at the first missing catalog or unknown principal. `seed` creates, with the
admin token: each principal the policy declares (users, service principals, the declared members of
groups; the open-source server has no groups) as a SCIM user, each catalog and schema it names, and each
table it names explicitly (not through a wildcard) as a placeholder EXTERNAL table under `data_dir`/seed.
What exists is left alone, so it is safe to run again. Used by `scripts/uc-local seed` and the demo.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from lakectl.governance.policy import Policy
from lakectl.services.uc import API, UcAdmin


def seed(policy: Policy, admin: UcAdmin, data_dir: Path) -> list[str]:
    """What was created, one "kind name" a line, in the order it was created."""
    created: list[str] = []
    people = list(dict.fromkeys([*policy.users, *policy.service_principals, *(m for ms in policy.groups.values() for m in ms)]))
    for email in people:
        if admin.user(email):
            created.append(f"user {email}")
    names = [e.name for e in policy.entries] + list(policy.managed_under)
    for cat in dict.fromkeys(n[0] for n in names):
        if admin.catalog(cat, comment="created by lakectl's seed of a local server"):
            created.append(f"catalog {cat}")
    for cat, schema in dict.fromkeys(n[:2] for n in names if len(n) > 1 and n[1] != "*"):
        if admin.schema(cat, schema):
            created.append(f"schema {cat}.{schema}")
    tables = [e.name for e in policy.entries if e.type == "table" and not e.wildcard]
    for cat, schema, table in dict.fromkeys(tables):
        # look first: the server refuses a second table at the same path (403) before it says it exists
        if admin.exists(f"{API}/tables/{urllib.parse.quote(f'{cat}.{schema}.{table}', safe='')}"):
            continue
        location = (Path(data_dir).resolve() / "seed" / cat / schema / table).as_uri()
        if admin.table(cat, schema, table, location):
            created.append(f"table {cat}.{schema}.{table}")
    return created
