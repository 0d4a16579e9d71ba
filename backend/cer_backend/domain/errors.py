"""Errors of the settlement domain: every problem of an input, each with its path."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    ``path`` names where: a structure path (``plants[3].power_kw``), or for files
    ``file:line`` / ``file: plants[3].power_kw``. ``message`` says what is wrong.
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def within(self, prefix: str) -> Problem:
        """The same problem with ``prefix`` (a file name) in front of its path."""
        if not prefix:
            return self
        return Problem(f"{prefix}: {self.path}" if self.path else prefix, self.message)


class InvalidInput(Exception):
    """An input (community, readings, prices, study, period) is invalid.

    ``problems`` lists every problem found, not only the first; ``str()`` gives one line
    per problem.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        if not self.problems:
            self.problems = [Problem("", "invalid input")]
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def single(cls, path: str, message: str) -> InvalidInput:
        """An error with one problem."""
        return cls([Problem(path, message)])

    def within(self, prefix: str) -> InvalidInput:
        """The same error with ``prefix`` (a file name) in front of every path."""
        return InvalidInput(p.within(prefix) for p in self.problems)
