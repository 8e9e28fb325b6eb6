"""`python -m swiftvr_cli.cli`: the `swiftvr` command."""

from . import app

app()
