"""Errors a command reports to the user without a traceback."""


class UsageError(Exception):
    """A problem with what the user asked for or gave: printed as one line, exit code 2."""

    exit_code = 2


class CheckFailed(Exception):
    """The input is readable but breaks a rule (for example a GSE rule): exit code 1."""

    exit_code = 1
