"""Create on a local Unity Catalog server what a grants policy names, so the policy can be tried there.

Usage: python scripts/uc/seed.py URL TOKEN_FILE POLICY DATA_DIR   (run by `scripts/uc-local seed [POLICY]`)

A real catalog already has its users and objects; a fresh local server has none, and `lakectl grant plan`
on the example policy would stop at the first missing catalog or unknown principal. This creates, with the
admin token: each principal the policy declares (users, service principals, the declared members of
groups; the open-source server has no groups) as a SCIM user, each catalog and schema it names, and each
table it names explicitly (not through a wildcard) as a placeholder EXTERNAL table located under DATA_DIR/seed. Existing ones are left alone, so it is safe to run again. Prints one line per thing created.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from lakectl.governance.policy import load_policy

API = "/api/2.1/unity-catalog"
USERS = "/api/1.0/unity-control/scim2/Users"


def main(url: str, token_file: str, policy_file: str, data_dir: str) -> int:
    token = Path(token_file).read_text().strip()
    policy = load_policy(policy_file)

    def call(method: str, path: str, body: Any = None) -> Any:
        req = urllib.request.Request(
            url.rstrip("/") + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else {}

    def create(what: str, path: str, body: dict[str, Any]) -> None:
        try:
            call("POST", path, body)
            print(f"created {what}")
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            if e.code != 409 and "ALREADY_EXISTS" not in text and '"409"' not in text:
                raise SystemExit(f"uc-local seed: {what}: HTTP {e.code}: {text[:200]}") from None

    people = list(dict.fromkeys([*policy.users, *policy.service_principals, *(m for ms in policy.groups.values() for m in ms)]))
    for email in people:
        create(f"user {email}", USERS, {"displayName": email.split("@")[0] or "user", "emails": [{"value": email, "primary": True}]})
    names = [e.name for e in policy.entries] + list(policy.managed_under)
    tables = [e.name for e in policy.entries if e.type == "table" and not e.wildcard]
    for cat in dict.fromkeys(n[0] for n in names):
        create(f"catalog {cat}", f"{API}/catalogs", {"name": cat, "comment": "created by scripts/uc-local seed"})
    for cat, schema in dict.fromkeys(n[:2] for n in names if len(n) > 1 and n[1] != "*"):
        create(f"schema {cat}.{schema}", f"{API}/schemas", {"name": schema, "catalog_name": cat})
    column = {"name": "id", "type_name": "LONG", "type_text": "bigint", "position": 0, "nullable": True}
    column["type_json"] = json.dumps({"name": "id", "type": "long", "nullable": True, "metadata": {}})
    for cat, schema, table in dict.fromkeys(tables):
        location = (Path(data_dir).resolve() / "seed" / cat / schema / table).as_uri()
        body = {"name": table, "catalog_name": cat, "schema_name": schema, "table_type": "EXTERNAL"}
        body.update(data_source_format="DELTA", storage_location=location, columns=[column])
        try:  # look first: the server refuses a second table at the same path (403) before it says it exists
            call("GET", f"{API}/tables/{urllib.parse.quote(f'{cat}.{schema}.{table}', safe='')}")
            continue
        except urllib.error.HTTPError as e:
            if e.code != 404:
                raise SystemExit(f"uc-local seed: table {cat}.{schema}.{table}: HTTP {e.code}") from None
        create(f"table {cat}.{schema}.{table}", f"{API}/tables", body)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__.split("\n\n")[1])
    sys.exit(main(*sys.argv[1:]))
