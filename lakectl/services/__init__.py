"""Local services the project runs on loopback: a Kafka broker and an open-source Unity Catalog server.

Thin Python over `scripts/kafka-local` and `scripts/uc-local` (they assemble each service from cached Maven
jars): `kafka.start_broker`, `uc.start_server`. `lakectl demo --with-services`, the tests and the benchmarks
use these, so there is one implementation of starting, waiting for and stopping them.
"""
