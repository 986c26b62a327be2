"""Ground floor: errors and exit codes, results, SQL quoting, formatting, typed models, caches, faults."""
