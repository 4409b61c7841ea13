"""The one exception type for bad user input (configs, CSVs, CLI arguments)."""


class UserError(Exception):
    """A problem the user can fix; the CLI prints it on one line and exits with code 2."""
