"""A real open-source Unity Catalog server on loopback (over scripts/uc-local), and a small admin client.

Each server has its own data folder (config, H2 database, admin token, log) and free ports; a data folder
keeps its catalog across restarts. `UcAdmin` creates users, catalogs, schemas and EXTERNAL tables through
the REST API (plain urllib): what a fresh server needs before a policy can be applied to it. lakectl itself
only reads and patches grants (lakectl.governance.uc_oss).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lakectl.services.scripts import ServiceError, check_java, free_pair, run_script, script

FETCH_TIMEOUT = 1200  # the first run resolves ~161 MB of jars
START_TIMEOUT = 150
API = "/api/2.1/unity-catalog"
USERS = "/api/1.0/unity-control/scim2/Users"


class UcServerError(ServiceError):
    """scripts/uc-local failed, or the server refused an admin call (`status`: its HTTP status)."""

    def __init__(self, message: str, hint: str | None = None, output: str = "", status: int | None = None) -> None:
        super().__init__(message, hint, output)
        self.status = status


def run_uc_script(args: list[str], env: Mapping[str, str], timeout: float) -> str:
    try:
        return run_script(script("uc-local"), args, env, timeout).stdout
    except ServiceError as e:
        raise UcServerError(f"Unity Catalog: {e.message}", e.hint, e.output) from e.__cause__


class UcServer:
    name = "unity-catalog"

    def __init__(self, data_dir: Path, url: str, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.url = url
        self._env = env

    @property
    def ports(self) -> list[int]:
        """The proxy port N and the API port N+1 the server opens."""
        api = int(self.url.rsplit(":", 1)[1])
        return [api - 1, api]

    @property
    def log(self) -> Path:
        return self.data_dir / "uc.log"

    @property
    def token_file(self) -> Path:
        return self.data_dir / "etc" / "conf" / "token.txt"

    @property
    def token(self) -> str:
        return self.token_file.read_text().strip()

    def admin(self) -> UcAdmin:
        return UcAdmin(self.url, self.token)

    def token_for(self, user: str) -> str:
        """A token acting as `user`: a JWT (iss=internal, RS512) signed with the server's own key, by openssl."""
        import base64
        import time

        conf = self.data_dir / "etc" / "conf"
        pem = conf / "private_key.pem"
        if not pem.exists():
            subprocess.run(
                ["openssl", "pkey", "-inform", "DER", "-in", str(conf / "private_key.der"), "-out", str(pem)],
                check=True,
                capture_output=True,
                timeout=30,
            )

        def b64(obj: Any) -> str:
            raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
            return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

        header = {"alg": "RS512", "typ": "JWT", "kid": (conf / "key_id.txt").read_text().strip()}
        now = int(time.time())
        body = {"iss": "internal", "sub": user, "iat": now, "jti": f"{user}-{now}", "type": "ACCESS"}
        signing_input = f"{b64(header)}.{b64(body)}"
        sig = subprocess.run(
            ["openssl", "dgst", "-sha512", "-sign", str(pem)], input=signing_input.encode(), check=True, capture_output=True, timeout=30
        ).stdout
        return f"{signing_input}.{b64(sig)}"

    def is_running(self) -> bool:
        try:
            run_uc_script(["status"], self._env, 30)
            return True
        except UcServerError:
            return False

    def stop(self) -> None:
        run_uc_script(["stop"], self._env, 60)


def server_env(data_dir: Path) -> dict[str, str]:
    return dict(os.environ, UC_DATA_DIR=str(data_dir), UC_START_TIMEOUT=str(START_TIMEOUT))


def stop_leftover(data_dir: Path) -> None:
    """Stop a server an earlier, killed process left running on this data folder (nothing if none)."""
    if (Path(data_dir) / "uc.pid").exists():
        run_uc_script(["stop"], server_env(Path(data_dir).resolve()), 60)


def start_server(data_dir: Path) -> UcServer:
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(data_dir)
    check_java(env)
    run_uc_script(["fetch"], env, FETCH_TIMEOUT)
    last: UcServerError | None = None
    for _ in range(3):
        env["UC_PORT"] = str(free_pair())
        try:
            out = run_uc_script(["start"], env, START_TIMEOUT + 30).strip()
        except UcServerError as e:
            last = e
            if "already in use" in e.output:
                continue
            raise
        return UcServer(data_dir, out.splitlines()[-1], env)
    assert last is not None
    raise last


class UcAdmin:
    """Admin calls on a local server: users, catalogs, schemas, EXTERNAL tables; grants read and patched."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    def call(self, method: str, path: str, body: Any = None, ok_conflict: bool = False) -> Any:
        req = urllib.request.Request(
            self.url + path,
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
        except urllib.error.HTTPError as e:
            text = e.read().decode(errors="replace")
            if ok_conflict and ("ALREADY_EXISTS" in text or '"409"' in text or e.code == 409):
                return None
            raise UcServerError(f"Unity Catalog: {method} {path}: HTTP {e.code}: {text[:300]}", status=e.code) from None
        return json.loads(raw) if raw else {}

    def exists(self, path: str) -> bool:
        try:
            self.call("GET", path)
            return True
        except UcServerError as e:
            if e.status == 404:
                return False
            raise

    def user(self, email: str) -> bool:
        """Create a SCIM user; False when it existed."""
        body = {"displayName": email.split("@")[0] or "user", "emails": [{"value": email, "primary": True}]}
        return self.call("POST", USERS, body, ok_conflict=True) is not None

    def catalog(self, name: str, comment: str | None = None) -> bool:
        body = {"name": name, **({"comment": comment} if comment else {})}
        return self.call("POST", f"{API}/catalogs", body, ok_conflict=True) is not None

    def schema(self, catalog: str, name: str) -> bool:
        return self.call("POST", f"{API}/schemas", {"name": name, "catalog_name": catalog}, ok_conflict=True) is not None

    def table(self, catalog: str, schema: str, name: str, location: str) -> bool:
        col = {
            "name": "id",
            "type_name": "LONG",
            "type_text": "bigint",
            "position": 0,
            "nullable": True,
            "type_json": json.dumps({"name": "id", "type": "long", "nullable": True, "metadata": {}}),
        }
        body = {
            "name": name,
            "catalog_name": catalog,
            "schema_name": schema,
            "table_type": "EXTERNAL",
            "data_source_format": "DELTA",
            "storage_location": location,
            "columns": [col],
        }
        return self.call("POST", f"{API}/tables", body, ok_conflict=True) is not None

    def grants(self, type: str, full_name: str) -> dict[str, list[str]]:
        data = self.call("GET", f"{API}/permissions/{type}/{urllib.parse.quote(full_name, safe='')}")
        return {a["principal"]: sorted(a["privileges"]) for a in data.get("privilege_assignments") or []}

    def patch(self, type: str, full_name: str, principal: str, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        change: dict[str, Any] = {"principal": principal}
        if add:
            change["add"] = list(add)
        if remove:
            change["remove"] = list(remove)
        self.call("PATCH", f"{API}/permissions/{type}/{urllib.parse.quote(full_name, safe='')}", {"changes": [change]})
