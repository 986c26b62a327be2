"""Workspace files: mkdirs, import (multipart, as `w.workspace.upload` sends it) and get-status."""

from __future__ import annotations

from tests.databricks_fake.routes import ApiError, Raw, Request, Shape, bad_request, not_found, route

MKDIRS = Shape(required={"path"})
IMPORT_FIELDS = Shape(required={"path", "content"}, optional={"format", "language", "overwrite"})
FORMATS = {"AUTO", "RAW", "SOURCE", "DBC", "HTML", "JUPYTER", "R_MARKDOWN"}


def _check_path(path: str) -> None:
    if not path.startswith("/"):
        raise bad_request(f"path must be absolute: {path!r}")


@route("POST", r"/api/2\.0/workspace/mkdirs")
def mkdirs(req: Request):
    MKDIRS.check(req.body, "workspace/mkdirs")
    _check_path(req.body["path"])
    assert req.fake is not None
    target = req.fake.local_path(_absolute(req.body["path"]))
    if target.exists() and not target.is_dir():
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{req.body['path']} exists and is not a directory")
    target.mkdir(parents=True, exist_ok=True)
    return 200, {}


@route("POST", r"/api/2\.0/workspace/import")
def import_(req: Request):
    if not isinstance(req.body, dict):
        raise bad_request("workspace/import: expected multipart/form-data or JSON")
    IMPORT_FIELDS.check(req.body, "workspace/import")
    path, fmt = req.body["path"], req.body.get("format", "SOURCE")
    _check_path(path)
    if fmt not in FORMATS:
        raise bad_request(f"workspace/import: unknown format {fmt!r}")
    if fmt == "SOURCE" and not req.body.get("language"):
        raise bad_request("The zip file may not be valid or may be an unsupported version. (format SOURCE needs a language)")
    content = req.body["content"]
    if isinstance(content, str):  # JSON form: base64
        import base64

        content = base64.b64decode(content)
    assert req.fake is not None
    target = req.fake.local_path(_absolute(path))
    if not target.parent.is_dir():
        raise not_found(f"The parent folder ({target.parent.name}) does not exist.")
    if target.exists() and str(req.body.get("overwrite", "false")).lower() != "true":
        raise ApiError(400, "RESOURCE_ALREADY_EXISTS", f"{path} already exists.")
    req.fake.stored(_absolute(path), content)
    return 200, {}


@route("GET", r"/api/2\.0/workspace/get-status")
def get_status(req: Request):
    path = req.query.get("path")
    if not path:
        raise bad_request("workspace/get-status: missing required field path")
    assert req.fake is not None
    target = req.fake.local_path(_absolute(path))
    if not target.exists():
        raise not_found(f"Path ({path}) doesn't exist.")
    kind = "DIRECTORY" if target.is_dir() else "FILE"
    info = {"path": path, "object_type": kind, "object_id": abs(hash(path)) % 10**12}
    if kind == "FILE":
        info["size"] = target.stat().st_size
    return 200, info


def _absolute(path: str) -> str:
    """Workspace paths may be written with or without the /Workspace prefix: store both the same way."""
    return path if path.startswith("/Workspace/") else "/Workspace" + path


@route("GET", r"/api/2\.0/workspace/export")
def export(req: Request):
    unknown = set(req.query) - {"path", "format", "direct_download"}
    if unknown or not req.query.get("path"):
        raise bad_request(f"workspace/export: unknown {sorted(unknown)} or missing path")
    assert req.fake is not None
    target = req.fake.local_path(_absolute(req.query["path"]))
    if not target.is_file():
        raise not_found(f"Path ({req.query['path']}) doesn't exist.")
    if req.query.get("direct_download") == "true":
        return 200, Raw(target.read_bytes())
    import base64

    return 200, {"content": base64.b64encode(target.read_bytes()).decode(), "file_type": target.suffix.lstrip(".")}


@route("POST", r"/api/2\.0/workspace/delete")
def delete(req: Request):
    Shape(required={"path"}, optional={"recursive"}).check(req.body, "workspace/delete")
    assert req.fake is not None
    target = req.fake.local_path(_absolute(req.body["path"]))
    if not target.exists():
        raise not_found(f"Path ({req.body['path']}) doesn't exist.")
    if target.is_dir():
        import shutil

        if any(target.iterdir()) and not req.body.get("recursive"):
            raise ApiError(400, "DIRECTORY_NOT_EMPTY", f"Folder ({req.body['path']}) is not empty")
        shutil.rmtree(target)
    else:
        target.unlink()
    return 200, {}
