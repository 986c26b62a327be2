"""The Files API for Unity Catalog volumes: endpoint discovery, PUT/HEAD/GET /api/2.0/fs/files/Volumes/...,
directories."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.databricks_fake.routes import ApiError, Raw, Request, bad_request, not_found, route

VOLUME_PATH = r"(?P<path>/Volumes/[^/]+/[^/]+/[^/]+(?:/.*)?)"


def _file(req: Request):
    assert req.fake is not None and req.match is not None
    path = req.match["path"]
    if path.count("/") < 5:
        raise bad_request(f"{path}: a file path must name a file inside a volume (/Volumes/catalog/schema/volume/...)")
    return path, req.fake.local_path(path)


@route("GET", r"/api/2\.0/fs/endpoints")
def endpoints(req: Request):
    """Where file transfers go (databricks-sdk >= 0.167 asks before every first transfer): this workspace
    serves the Files API 2.0 on its own host. Proto3 JSON leaves out false booleans
    (`multipart_upload_supported`), so the SDK uploads in one shot. A workspace that does not serve the
    API yet answers 404 (`fake.state["files"]["endpoints_api"] = False`)."""
    assert req.fake is not None
    if not req.fake.area("files").get("endpoints_api", True):
        raise ApiError(404, "ENDPOINT_NOT_FOUND", "No API found for 'GET /fs/endpoints'")
    host = urlsplit(req.fake.url).netloc
    return 200, {"endpoints": [{"api": "FILES_API", "api_version": "2.0", "scheme": "http", "hostname": host}]}


@route("PUT", r"/api/2\.0/fs/files" + VOLUME_PATH)
def upload(req: Request):
    unknown = set(req.query) - {"overwrite"}
    if unknown:
        raise bad_request(f"fs/files PUT: unknown query parameter(s) {sorted(unknown)}")
    if not isinstance(req.body, (bytes, bytearray)):
        raise bad_request("fs/files PUT: the body must be the raw file bytes (application/octet-stream)")
    path, target = _file(req)
    if target.exists() and req.query.get("overwrite") != "true":
        raise ApiError(409, "ALREADY_EXISTS", f"{path} already exists")
    assert req.fake is not None
    req.fake.stored(path, bytes(req.body))
    return 204, None


@route("HEAD", r"/api/2\.0/fs/files" + VOLUME_PATH)
def metadata(req: Request):
    path, target = _file(req)
    if not target.is_file():
        raise not_found(f"{path} does not exist")
    return 200, None


@route("GET", r"/api/2\.0/fs/files" + VOLUME_PATH)
def download(req: Request):
    path, target = _file(req)
    if not target.is_file():
        raise not_found(f"{path} does not exist")
    return 200, Raw(target.read_bytes())


@route("PUT", r"/api/2\.0/fs/directories" + VOLUME_PATH)
def create_directory(req: Request):
    assert req.fake is not None and req.match is not None
    req.fake.local_path(req.match["path"]).mkdir(parents=True, exist_ok=True)
    return 204, None


@route("HEAD", r"/api/2\.0/fs/directories" + VOLUME_PATH)
def directory_metadata(req: Request):
    assert req.fake is not None and req.match is not None
    if not req.fake.local_path(req.match["path"]).is_dir():
        raise not_found(f"{req.match['path']} does not exist")
    return 200, None


@route("POST", r"/api/2\.0/fs/create-download-url")
def create_download_url(req: Request):
    # Presigned URLs are off in this workspace (as in many); the SDK then downloads through GET fs/files.
    raise ApiError(404, "ENDPOINT_NOT_FOUND", "presigned download URLs are not enabled in this workspace")


@route("DELETE", r"/api/2\.0/fs/files" + VOLUME_PATH)
def delete_file(req: Request):
    path, target = _file(req)
    if not target.is_file():
        raise not_found(f"{path} does not exist")
    target.unlink()
    return 204, None
