"""Event Hubs through its Kafka endpoint: the Spark/librdkafka options, and no secret in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lakectl.config import load_settings

REPO = Path(__file__).resolve().parents[2]
CONN = "Endpoint=sb://acme-ns.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=S3cr3t+key/abc="


def test_options_follow_the_event_hubs_kafka_endpoint(monkeypatch):
    from lakectl.pipeline.sources.eventhubs import eventhubs_spec

    monkeypatch.setenv("EVENTHUBS_CONNECTION_STRING", CONN)
    monkeypatch.setenv("EVENTHUBS_NAMESPACE", "acme-ns")
    cfg = load_settings(REPO / "configs" / "eventhubs.yaml").sources.eventhubs
    spec = eventhubs_spec(cfg)
    opts = spec.spark_options()
    assert opts["kafka.bootstrap.servers"] == "acme-ns.servicebus.windows.net:9093"
    assert opts["subscribe"] == "events"
    assert opts["kafka.security.protocol"] == "SASL_SSL" and opts["kafka.sasl.mechanism"] == "PLAIN"
    assert opts["kafka.sasl.jaas.config"] == (
        f'org.apache.kafka.common.security.plain.PlainLoginModule required username="$ConnectionString" password="{CONN}";'
    )
    assert opts["maxOffsetsPerTrigger"] == "100000" and opts["failOnDataLoss"] == "true"
    # The same connection for the librdkafka probe.
    assert spec.client_conf() == {
        "bootstrap.servers": "acme-ns.servicebus.windows.net:9093",
        "log_level": 0,
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "$ConnectionString",
        "sasl.password": CONN,
    }
    assert spec.identity() == {"source": "eventhubs", "bootstrap": "acme-ns.servicebus.windows.net:9093", "topics": ["events"]}
    redacted = spec.redacted_options()
    assert redacted["kafka.sasl.jaas.config"] == "***" and "S3cr3t" not in json.dumps(redacted)


def test_missing_connection_string_is_a_config_error(monkeypatch):
    from lakectl.core.errors import ConfigError
    from lakectl.pipeline.sources.eventhubs import eventhubs_spec

    monkeypatch.delenv("EVENTHUBS_CONNECTION_STRING", raising=False)
    cfg = load_settings(REPO / "configs" / "eventhubs.yaml").sources.eventhubs
    with pytest.raises(ConfigError, match="EVENTHUBS_CONNECTION_STRING is not set"):
        eventhubs_spec(cfg)


def test_dry_run_output_masks_the_connection_string(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from lakectl.cli.app import app

    monkeypatch.setenv("EVENTHUBS_CONNECTION_STRING", CONN)
    monkeypatch.setenv("LAKECTL_ROOT", str(tmp_path / "lake"))
    result = CliRunner().invoke(
        app, ["--config", str(REPO / "configs" / "eventhubs.yaml"), "ingest", "--source", "eventhubs", "--dry-run", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "S3cr3t" not in result.output and "SharedAccessKey" not in result.output
    doc = json.loads(result.output)
    assert doc["source_options"]["kafka.sasl.jaas.config"] == "***"
    assert doc["source_options"]["kafka.bootstrap.servers"] == "my-namespace.servicebus.windows.net:9093"


def test_kafka_jaas_from_config_must_come_from_the_environment():
    from lakectl.config import settings_from_dict
    from lakectl.core.errors import ConfigError

    with pytest.raises(ConfigError, match="secrets must come from the environment"):
        settings_from_dict({"sources": {"kafka": {"options": {"kafka.sasl.jaas.config": "PlainLoginModule password=x;"}}}})


def test_kinesis_outside_databricks_is_one_clear_line(monkeypatch):
    from lakectl.core.errors import UsageError
    from lakectl.pipeline.sources.kinesis import require_databricks

    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    with pytest.raises(UsageError, match="kinesis source needs a Databricks target") as err:
        require_databricks()
    assert err.value.exit_code == 2


def test_kafka_min_partitions_reaches_spark_and_stays_out_when_unset():
    from lakectl.config import settings_from_dict
    from lakectl.pipeline.sources.kafka import kafka_spec

    tuned = settings_from_dict({"sources": {"kafka": {"min_partitions": 12}}}).sources.kafka
    assert kafka_spec(tuned, topics=["t"]).spark_options()["minPartitions"] == "12"
    plain = settings_from_dict({}).sources.kafka
    assert "minPartitions" not in kafka_spec(plain, topics=["t"]).spark_options()  # read_stream picks the session default


def test_kafka_partitions_are_not_split_when_data_loss_is_allowed():
    """With failOnDataLoss=false Spark's consumer pool hands one KafkaConsumer to two tasks of a split
    topic partition after an expired offset: one task per topic partition then, even if configured."""
    from lakectl.config import settings_from_dict
    from lakectl.pipeline.sources.kafka import kafka_spec

    spec = kafka_spec(settings_from_dict({"sources": {"kafka": {"min_partitions": 12}}}).sources.kafka, topics=["t"])
    spec.fail_on_data_loss = False
    assert "minPartitions" not in spec.spark_options()
    assert spec.spark_options()["failOnDataLoss"] == "false"
    assert not spec.splits_partitions()


def test_monitor_backlog_connects_like_the_stream(monkeypatch):
    """monitor streams asks the broker for end offsets with the source's security settings, not
    with a bare bootstrap address (a SASL_SSL broker or Event Hubs would refuse that)."""
    from lakectl.config import settings_from_dict
    from lakectl.monitor.streams import backlog_client_conf

    monkeypatch.setenv("EVENTHUBS_CONNECTION_STRING", CONN)
    monkeypatch.setenv("EVENTHUBS_NAMESPACE", "acme-ns")
    hubs = load_settings(REPO / "configs" / "eventhubs.yaml")
    conf = backlog_client_conf(hubs, {"source": "eventhubs", "bootstrap": "acme-ns.servicebus.windows.net:9093", "topics": ["events"]})
    assert conf["bootstrap.servers"] == "acme-ns.servicebus.windows.net:9093"
    assert (conf["security.protocol"], conf["sasl.mechanisms"], conf["sasl.password"]) == ("SASL_SSL", "PLAIN", CONN)

    monkeypatch.setenv("KAFKA_PASSWORD", "pw")
    secured = settings_from_dict(
        {
            "sources": {
                "kafka": {
                    "options": {
                        "kafka.security.protocol": "SASL_SSL",
                        "kafka.sasl.mechanism": "PLAIN",
                        "kafka.sasl.jaas.config": 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="${KAFKA_PASSWORD}";',
                    }
                }
            }
        }
    )
    conf = backlog_client_conf(secured, {"source": "kafka", "bootstrap": "broker-1:9093", "topics": ["t"]})
    assert conf["bootstrap.servers"] == "broker-1:9093"  # the broker the checkpoint was made for
    assert (conf["security.protocol"], conf["sasl.username"], conf["sasl.password"]) == ("SASL_SSL", "u", "pw")
