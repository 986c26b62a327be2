"""Bronze: the event schema and the raw-record parse."""
