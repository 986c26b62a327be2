"""Where MLflow tracks and registers: URIs from config (sqlite under the storage root by default),
masking for messages, and a reachability probe that turns an unreachable store into exit 4."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakectl.core.errors import EnvironmentProblem, SourceUnavailable

if TYPE_CHECKING:
    from mlflow import MlflowClient

    from lakectl.config import Settings

_USERINFO = re.compile(r"(?<=://)[^/@]+@")
_SECRET_QUERY = re.compile(r"(?i)((?:token|password|secret|key|sig)[^=&]*=)[^&]+")


def mask_uri(uri: str) -> str:
    """The URI with any user:password@ and secret-looking query values replaced by ***."""
    return _SECRET_QUERY.sub(r"\1***", _USERINFO.sub("***@", uri))


@dataclass(frozen=True)
class Store:
    tracking_uri: str
    registry_uri: str
    artifact_location: str
    experiment: str
    model_name: str
    shared_dir: str = ""  # where Spark ML models cross between client and server over Spark Connect

    @property
    def display(self) -> str:
        same = self.registry_uri == self.tracking_uri
        return mask_uri(self.tracking_uri) + ("" if same else f" (registry {mask_uri(self.registry_uri)})")


def store_of(settings: Settings, target: Any = None) -> Store:
    """The MLflow stores: the config's URIs, else sqlite under the storage root; on a Databricks target
    the workspace's tracking server and the Unity Catalog registry, where a model is `catalog.schema.name`."""
    ml = settings.ml
    if getattr(target, "kind", None) == "databricks":
        tracking = ml.tracking_uri or "databricks"
        registry = ml.registry_uri or ("databricks-uc" if tracking == "databricks" else tracking)
        uc = registry.startswith("databricks-uc")
        return Store(
            tracking_uri=tracking,
            registry_uri=registry,
            artifact_location=ml.artifact_location or "",
            experiment=_workspace_experiment(ml.experiment) if tracking == "databricks" else ml.experiment,
            model_name=uc_model_name(ml.model_name, settings.storage.catalog, ml.model_schema) if uc else ml.model_name,
        )
    base = settings.storage.root_dir / "mlflow"
    tracking = ml.tracking_uri or f"sqlite:///{base / 'mlflow.db'}"
    return Store(
        tracking_uri=tracking,
        registry_uri=ml.registry_uri or tracking,
        artifact_location=ml.artifact_location or (base / "artifacts").as_uri(),
        experiment=ml.experiment,
        model_name=ml.model_name,
        shared_dir=str(settings.storage.root_dir / "tmp" / "mlflow"),
    )


def uc_model_name(name: str, catalog: str | None, schema: str) -> str:
    """A Unity Catalog model name: `name` when it is already catalog.schema.name, else qualified."""
    if name.count(".") == 2:
        return name
    if "." in name or not catalog:
        from lakectl.core.errors import ConfigError

        raise ConfigError(
            f"ml.model_name {name!r}: the Unity Catalog registry names a model catalog.schema.name",
            "set storage.catalog (the model goes to <catalog>.<ml.model_schema>.<name>) or a three-part ml.model_name",
        )
    return f"{catalog}.{schema}.{name}"


def _workspace_experiment(name: str) -> str:
    """Databricks experiments are workspace paths; a bare name goes under /Shared."""
    return name if name.startswith("/") else f"/Shared/{name}"


def import_mlflow():  # noqa: ANN201
    """mlflow, or exit 3 with how to install it."""
    # an unreachable HTTP store must fail in seconds, not after MLflow's minutes of retries
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # a tqdm bar per download clutters CI logs
    try:
        import mlflow
    except ImportError as exc:
        raise EnvironmentProblem(f"mlflow is not installed ({exc})", "pip install 'lakectl[ml]'") from None
    return mlflow


def connect(store: Store, *, create: bool = True) -> MlflowClient:
    """A client on the store, set as this process's tracking/registry URI; exit 4 if it cannot be reached."""
    mlflow = import_mlflow()
    for uri in {store.tracking_uri, store.registry_uri}:
        if uri.startswith("sqlite:///"):
            db = Path(uri[len("sqlite:///") :])
            if not db.exists() and not create:
                raise SourceUnavailable(f"MLflow store not found: {mask_uri(uri)}", "run `lakectl train` first, or set ml.tracking_uri")
            try:
                db.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise SourceUnavailable(
                    f"MLflow store {mask_uri(uri)} cannot be reached: {exc.strerror}",
                    "check ml.tracking_uri / ml.registry_uri in the config",
                ) from None
    if store.shared_dir:
        from lakectl.ml.connect_compat import use_shared_dir

        use_shared_dir(Path(store.shared_dir))
    mlflow.set_tracking_uri(store.tracking_uri)
    mlflow.set_registry_uri(store.registry_uri)
    client = mlflow.MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.registry_uri)
    try:
        client.search_experiments(max_results=1)
        client.search_registered_models(max_results=1)
    except Exception as exc:  # any failure to talk to the store: a connection, a bad path, a locked DB
        first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
        raise SourceUnavailable(
            f"MLflow store {store.display} cannot be reached: {mask_uri(first)}",
            "check ml.tracking_uri / ml.registry_uri and that the server or file is there",
        ) from None
    return client


def ensure_experiment(client: MlflowClient, store: Store) -> str:
    """The experiment's id, creating it with an explicit artifact location (never ./mlruns)."""
    found = client.get_experiment_by_name(store.experiment)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    return client.create_experiment(store.experiment, artifact_location=store.artifact_location or None)
