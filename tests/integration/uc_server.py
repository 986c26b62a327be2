"""A real open-source Unity Catalog server for integration tests, and a small admin client.

Thin wrapper over ``scripts/uc-local`` (like kafka_broker.py over kafka-local): each server gets its
own data dir and free ports. ``UcAdmin`` creates catalogs, schemas, EXTERNAL tables and SCIM users
through the REST API (plain urllib), so tests build their catalog without Spark.

No pytest import here, so benchmarks can use it too.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "scripts" / "uc-local"
FETCH_TIMEOUT = 1200  # the first run resolves ~161 MB of jars
START_TIMEOUT = 150


class UcServerError(RuntimeError):
    pass


def _free_pair() -> int:
    """A port N with N and N+1 both free on 127.0.0.1 (the server opens both)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            if port < 65000:
                return port
    raise UcServerError("no pair of free ports")


def _script(args: list[str], env: dict[str, str], timeout: float) -> str:
    try:
        proc = subprocess.run(
            ["bash", str(SCRIPT), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        raise UcServerError(f"uc-local {' '.join(args)} timed out after {timeout}s: {e.stderr or ''}") from e
    if proc.returncode != 0:
        raise UcServerError(f"uc-local {' '.join(args)} exited {proc.returncode}:\n{proc.stderr.strip()}\n{proc.stdout.strip()}")
    return proc.stdout


class UcServer:
    def __init__(self, data_dir: Path, url: str, env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.url = url
        self._env = env

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
            _script(["status"], self._env, 30)
            return True
        except UcServerError:
            return False

    def stop(self) -> None:
        _script(["stop"], self._env, 60)


def start_server(data_dir: Path) -> UcServer:
    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, UC_DATA_DIR=str(data_dir), UC_START_TIMEOUT=str(START_TIMEOUT))
    _script(["fetch"], env, FETCH_TIMEOUT)
    last: UcServerError | None = None
    for _ in range(3):
        env["UC_PORT"] = str(_free_pair())
        try:
            out = _script(["start"], env, START_TIMEOUT + 30).strip()
        except UcServerError as e:
            last = e
            if "already in use" in str(e):
                continue
            raise
        return UcServer(data_dir, out.splitlines()[-1], env)
    assert last is not None
    raise last


class UcAdmin:
    """Admin calls the tests need (not part of lakectl: lakectl only reads and patches grants)."""

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
            raise UcServerError(f"{method} {path}: HTTP {e.code}: {text[:300]}") from None
        return json.loads(raw) if raw else {}

    def user(self, email: str) -> None:
        self.call(
            "POST",
            "/api/1.0/unity-control/scim2/Users",
            {"displayName": email.split("@")[0] or "user", "emails": [{"value": email, "primary": True}]},
            ok_conflict=True,
        )

    def catalog(self, name: str) -> None:
        self.call("POST", "/api/2.1/unity-catalog/catalogs", {"name": name}, ok_conflict=True)

    def schema(self, catalog: str, name: str) -> None:
        self.call("POST", "/api/2.1/unity-catalog/schemas", {"name": name, "catalog_name": catalog}, ok_conflict=True)

    def table(self, catalog: str, schema: str, name: str, location: str) -> None:
        col = {
            "name": "id",
            "type_name": "LONG",
            "type_text": "bigint",
            "position": 0,
            "nullable": True,
            "type_json": json.dumps({"name": "id", "type": "long", "nullable": True, "metadata": {}}),
        }
        self.call(
            "POST",
            "/api/2.1/unity-catalog/tables",
            {
                "name": name,
                "catalog_name": catalog,
                "schema_name": schema,
                "table_type": "EXTERNAL",
                "data_source_format": "DELTA",
                "storage_location": location,
                "columns": [col],
            },
            ok_conflict=True,
        )

    def grants(self, type: str, full_name: str) -> dict[str, list[str]]:
        data = self.call("GET", f"/api/2.1/unity-catalog/permissions/{type}/{urllib.parse.quote(full_name, safe='')}")
        return {a["principal"]: sorted(a["privileges"]) for a in data.get("privilege_assignments") or []}

    def patch(self, type: str, full_name: str, principal: str, add: list[str] = (), remove: list[str] = ()) -> None:
        change: dict[str, Any] = {"principal": principal}
        if add:
            change["add"] = list(add)
        if remove:
            change["remove"] = list(remove)
        self.call("PATCH", f"/api/2.1/unity-catalog/permissions/{type}/{urllib.parse.quote(full_name, safe='')}", {"changes": [change]})
