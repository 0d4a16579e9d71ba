"""The settlement engine's notes in the reader's language (issue #13).

The run keeps the engine's warnings and errors as English sentences; each is recognised as a
kind of note (:mod:`cer_backend.domain.engine_notes`: a stable code, its parameters) and
written again from the catalogue's translation of its template, with the parameters in the
language's formats (amounts, counts, dates, months). A sentence of no known kind is shown as
it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Final

from ..domain.engine_notes import parse_note
from ..i18n import N_, Language

_MORE = re.compile(r"^(?P<ranges>.*) and (?P<count>\d+) more ranges$", re.DOTALL)
MORE_RANGES: Final = N_("{ranges} and {count} more ranges")


def _ranges(lang: Language, value: str) -> str:
    match = _MORE.match(value)
    if match is None:
        return value
    return lang.gettext(MORE_RANGES).format(
        ranges=match.group("ranges"), count=lang.number(int(match.group("count")))
    )


#: how a parameter is written, by its name (the others as they are)
_FORMATS: Final[dict[str, Callable[[Language, str], str]]] = {
    "pods": lambda lang, value: lang.number(int(value)),
    "hours": lambda lang, value: lang.number(int(value)),
    "day": lambda lang, value: lang.date(value),
    "month": lambda lang, value: lang.month(value),
    "ranges": _ranges,
}


def _value(lang: Language, name: str, value: str) -> str:
    if name.endswith("_eur"):
        return lang.eur(Decimal(value))
    form = _FORMATS.get(name)
    return value if form is None else form(lang, value)


def note_code(note: str) -> str | None:
    """The stable code of an engine note (None: not a known kind)."""
    parsed = parse_note(note)
    return None if parsed is None else parsed[0].code


def translate_note(note: str, lang: Language) -> str:
    """An engine note in ``lang`` (as it is when of no known kind)."""
    parsed = parse_note(note)
    if parsed is None:
        return note
    kind, params = parsed
    try:
        values = {name: _value(lang, name, value) for name, value in params.items()}
    except (ValueError, ArithmeticError):
        return note
    return lang.gettext(kind.template).format(**values)


def translate_notes(notes: Iterable[str], lang: Language) -> list[str]:
    """Every note in ``lang``."""
    return [translate_note(note, lang) for note in notes]
