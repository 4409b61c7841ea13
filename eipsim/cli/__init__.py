"""Application: the ``eipsim`` command line (run, validate, viz, sweep, sensitivity, ...)."""

from eipsim.cli.commands import main

__all__ = ["main"]
