"""One module per command; each function's docstring is its --help text."""
