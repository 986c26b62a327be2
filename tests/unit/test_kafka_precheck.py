"""The Kafka no-op pre-check's offline half: which checkpoint offsets it trusts, and which source
options the lightweight client reproduces (otherwise the check is skipped and Spark decides)."""

from __future__ import annotations

import json
from pathlib import Path

from lakectl.config import settings_from_dict
from lakectl.pipeline.sources.eventhubs import eventhubs_spec
from lakectl.pipeline.sources.kafka import kafka_spec
from lakectl.pipeline.sources.kafka_offsets import client_replicates, committed_end_offsets, nothing_new


def write_batch(cp: Path, batch: int, offsets: dict | str, *, commit: bool) -> None:
    """One batch in Spark's checkpoint layout: offsets/<N> = "v1", metadata, the source's offsets."""
    (cp / "offsets").mkdir(parents=True, exist_ok=True)
    (cp / "commits").mkdir(parents=True, exist_ok=True)
    source = offsets if isinstance(offsets, str) else json.dumps(offsets)
    (cp / "offsets" / str(batch)).write_text(f'v1\n{{"batchWatermarkMs":0,"batchTimestampMs":{batch}}}\n{source}')
    if commit:
        (cp / "commits" / str(batch)).write_text('v1\n{"nextBatchWatermarkMs":0}')


def test_only_the_last_committed_batch_is_trusted(tmp_path):
    cp = tmp_path / "offsets"
    assert committed_end_offsets(cp) is None  # never ran
    write_batch(cp, 0, {"t": {"0": 5, "1": 7}}, commit=False)
    assert committed_end_offsets(cp) is None  # planned, not committed
    (cp / "commits" / "0").write_text("v1\n{}")
    assert committed_end_offsets(cp) == {("t", 0): 5, ("t", 1): 7}
    write_batch(cp, 1, {"t": {"0": 9, "1": 7}}, commit=False)
    assert committed_end_offsets(cp) is None  # batch 1 is due for a replay: not "nothing new"
    (cp / "commits" / "1").write_text("v1\n{}")
    assert committed_end_offsets(cp) == {("t", 0): 9, ("t", 1): 7}
    (cp / "offsets" / ".1.crc").write_text("x")  # Hadoop's side files are not batches
    assert committed_end_offsets(cp) == {("t", 0): 9, ("t", 1): 7}


def test_placeholders_and_other_layouts_are_doubts(tmp_path):
    for i, source in enumerate(['{"t":{"0":-2}}', '{"t":{}}', "-", '{"t":{"0":3}}\n{"u":{"0":1}}']):
        cp = tmp_path / str(i)
        write_batch(cp, 0, source, commit=True)
        assert committed_end_offsets(cp) is None, source


def spec(options: dict | None = None, **kw):
    return kafka_spec(settings_from_dict({"sources": {"kafka": {"options": options or {}}}}).sources.kafka, bootstrap="127.0.0.1:1", **kw)


def test_options_the_client_cannot_reproduce_skip_the_check(monkeypatch):
    monkeypatch.setenv("KN_SCRAM", 'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";')
    monkeypatch.setenv("KN_KERBEROS", "com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true;")
    assert client_replicates(spec())
    scram = spec(
        {
            "kafka.security.protocol": "SASL_SSL",
            "kafka.sasl.mechanism": "SCRAM-SHA-512",
            "kafka.sasl.jaas.config": "${KN_SCRAM}",
            "kafka.request.timeout.ms": "60000",
        }
    )
    assert client_replicates(scram)
    assert {k: scram.client_conf()[k] for k in ("security.protocol", "sasl.mechanisms", "sasl.username", "sasl.password")} == {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "SCRAM-SHA-512",
        "sasl.username": "u",
        "sasl.password": "p",
    }
    for options in (
        {"kafka.sasl.mechanism": "GSSAPI"},
        {"kafka.sasl.mechanism": "OAUTHBEARER"},
        {"kafka.ssl.truststore.location": "/etc/kafka/truststore.jks"},
        {"kafka.sasl.jaas.config": "${KN_KERBEROS}"},
        {"kafka.bootstrap.servers": "elsewhere:9092"},
        {"kafka.client.dns.lookup": "use_all_dns_ips"},
    ):
        assert not client_replicates(spec(options)), options
        assert nothing_new(spec(options, topics=["t"]), Path("/nonexistent")) is None


def test_event_hubs_connects_with_its_connection_string():
    cfg = settings_from_dict({"sources": {"eventhubs": {"namespace": "myns", "event_hub": "events"}}}).sources.eventhubs
    s = eventhubs_spec(cfg, environ={"EVENTHUBS_CONNECTION_STRING": 'Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKey=a"b'})
    assert client_replicates(s)
    assert s.client_conf() | {"log_level": 0} == {
        "bootstrap.servers": "myns.servicebus.windows.net:9093",
        "log_level": 0,
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "PLAIN",
        "sasl.username": "$ConnectionString",
        "sasl.password": 'Endpoint=sb://myns.servicebus.windows.net/;SharedAccessKey=a"b',
    }


def test_a_topic_pattern_is_left_to_spark(tmp_path):
    write_batch(tmp_path / "offsets", 0, {"t": {"0": 0}}, commit=True)
    assert nothing_new(spec(pattern="t.*"), tmp_path / "offsets") is None
