"""A refused connection to the broker is an answer (issue 31, item 9): `ingest --source kafka` against a port
nothing listens on ends at once with exit 4 naming the address, instead of waiting the client's 10 s."""

from __future__ import annotations

import socket
import time

from typer.testing import CliRunner

from lakectl.cli.app import build


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens: a connection is refused
    return port


def test_a_refused_broker_is_exit_4_at_once(tmp_path):
    port = _closed_port()
    config = tmp_path / "lakectl.yaml"
    config.write_text(
        f"storage:\n  root: {tmp_path / 'lake'}\n"
        f"sources:\n  kafka:\n    bootstrap_servers: 127.0.0.1:{port}\n    topics: [events]\n    connect_timeout_s: 10\n"
    )
    started = time.monotonic()
    result = CliRunner().invoke(build(), ["--config", str(config), "ingest", "--source", "kafka"], env={"COLUMNS": "200"})
    took = time.monotonic() - started
    assert result.exit_code == 4, result.output
    assert f"127.0.0.1:{port} refused the connection" in result.output
    assert took < 5  # it waited the whole connect_timeout_s (10 s) before


def test_an_address_that_answers_is_left_to_the_client():
    from lakectl.pipeline.sources.kafka import KafkaSpec, _refused_everywhere

    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen()
    try:
        spec = KafkaSpec(kind="kafka", bootstrap=f"127.0.0.1:{_closed_port()},127.0.0.1:{listening.getsockname()[1]}", topics=["t"])
        _refused_everywhere(spec)  # one address accepts: no verdict here
    finally:
        listening.close()
