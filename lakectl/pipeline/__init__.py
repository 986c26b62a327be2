"""The medallion: sources -> bronze -> silver -> gold."""
