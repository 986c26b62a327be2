"""Pure parts of lakectl.ml: the gate rule, model specs, URI masking, metrics."""

from __future__ import annotations

import pytest

from lakectl.core.errors import UsageError
from lakectl.ml.metrics import classification_metrics, confusion
from lakectl.ml.registry import gate, parse_spec
from lakectl.ml.store import mask_uri, store_of


def test_gate_needs_the_minimum_and_must_beat_the_champion():
    assert gate("accuracy", 0.8, None, None, minimum=0.6, tolerance=0.0).promote
    assert not gate("accuracy", 0.5, None, None, minimum=0.6, tolerance=0.0).promote
    assert not gate("accuracy", 0.8, 0.8, "1", minimum=0.6, tolerance=0.0).promote  # equal: champion stays
    assert gate("accuracy", 0.81, 0.8, "1", minimum=0.6, tolerance=0.0).promote
    assert gate("accuracy", 0.795, 0.8, "1", minimum=0.6, tolerance=0.01).promote
    decision = gate("accuracy", 0.7, 0.8, "3", minimum=0.6, tolerance=0.01)
    assert not decision.promote and "champion v3" in decision.reason


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("sentiment@champion", ("sentiment", "champion", None)),
        ("challenger", ("sentiment", "challenger", None)),
        ("3", ("sentiment", None, "3")),
        ("other/12", ("other", None, "12")),
        ("other:2", ("other", None, "2")),
    ],
)
def test_model_specs(spec, expected):
    assert parse_spec(spec, "sentiment") == expected


@pytest.mark.parametrize("spec", ["a@b@c", "x/champion", "bad spec"])
def test_bad_model_specs(spec):
    with pytest.raises(UsageError):
        parse_spec(spec, "sentiment")


def test_uri_secrets_are_masked():
    assert mask_uri("http://user:pw@host:5000/x?token=abc&a=1") == "http://***@host:5000/x?token=***&a=1"
    assert mask_uri("sqlite:////tmp/a.db") == "sqlite:////tmp/a.db"


def test_default_store_is_sqlite_under_the_root(settings):
    store = store_of(settings)
    root = settings.storage.root_dir
    assert store.tracking_uri == f"sqlite:///{root / 'mlflow' / 'mlflow.db'}" == store.registry_uri
    assert store.artifact_location == (root / "mlflow" / "artifacts").as_uri()


def test_metrics_and_confusion():
    y, p = [1, 1, 0, 0], [0.9, 0.4, 0.2, 0.6]
    m = classification_metrics(y, p)
    assert m["accuracy"] == 0.5 and m["roc_auc"] == 0.75 and m["rows"] == 4
    assert confusion(y, p)["matrix"] == [[1, 1], [1, 1]]


def test_databricks_target_uses_the_workspace_tracking_and_the_uc_registry():
    from lakectl.config import settings_from_dict
    from lakectl.core.errors import ConfigError

    def store(**cfg):
        s = settings_from_dict(
            {"default_target": "dbx", "targets": {"dbx": {"kind": "databricks", "host": "https://127.0.0.1:1", "cluster_id": "c"}}, **cfg},
            "<test>",
        )
        return store_of(s, s.target("dbx"))

    st = store(storage={"catalog": "main"})
    assert (st.tracking_uri, st.registry_uri, st.model_name) == ("databricks", "databricks-uc", "main.ml.sentiment")
    assert st.experiment == "/Shared/lakectl-sentiment"
    assert store(ml={"model_name": "prod.models.reviews"}).model_name == "prod.models.reviews"
    assert store(storage={"catalog": "main"}, ml={"model_schema": "gold"}).model_name == "main.gold.sentiment"
    with pytest.raises(ConfigError, match="catalog.schema.name"):
        store()  # no catalog, a bare name: the UC registry cannot hold it
    own = store(ml={"tracking_uri": "sqlite:////tmp/x/mlflow.db"})  # a store of its own: names as they are
    assert (own.registry_uri, own.model_name, own.experiment) == ("sqlite:////tmp/x/mlflow.db", "sentiment", "lakectl-sentiment")
    local = settings_from_dict({"storage": {"root": "/tmp/x"}}, "<test>")
    assert store_of(local, local.target(None)).registry_uri.startswith("sqlite:///")
