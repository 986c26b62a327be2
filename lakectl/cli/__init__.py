"""The command-line layer: Typer commands that parse flags, call one job and render its Result."""
