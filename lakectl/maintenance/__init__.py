"""Table maintenance for `lakectl optimize`: compaction, Z-order/clustering, VACUUM, properties, advice."""
