"""swiftvr: one-step streaming video restoration from the command line."""

__version__ = "0.1.0"  # the one place: pyproject.toml reads it (dynamic version)
