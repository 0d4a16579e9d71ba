"""The settlement engine's warnings and errors, each with a stable code and its parameters.

The engine writes its notes as English sentences (the run's JSON and the CLI keep them so);
this table names each kind of note with a code and the English template it is written from,
its parameters in braces. :func:`parse_note` turns a sentence back into (code, parameters),
for every run stored, old or new, so the reports can write it in the reader's language
(the templates are the message ids of the gettext catalogues, ``cer_backend/locale``).

The templates must stay word for word what ``settlement.py``, ``distribution.py`` and
``advance.py`` write (tests/backend/reports/test_engine_notes.py runs the engine into each).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final


def N_(message: str) -> str:
    """Mark a template for the catalogues (pure: nothing is translated here)."""
    return message


@dataclass(frozen=True, slots=True)
class NoteKind:
    """One kind of note: its code and the English template (a catalogue message id)."""

    code: str
    template: str


#: every note of the engine; parameters: ``*_eur`` an amount (``"58.14"``), ``pods``,
#: ``hours`` counts, ``day`` an ISO date, ``month`` ``YYYY-MM``, the others verbatim
NOTES: Final[tuple[NoteKind, ...]] = (
    NoteKind(
        "readings_missing",
        N_(
            "readings missing for {pods} PODs in {hours} hours: those hours are settled on "
            "the readings present (see missing)"
        ),
    ),
    NoteKind(
        "unknown_pods_ignored",
        N_("readings of {pods} PODs that are in no member and no plant were ignored"),
    ),
    NoteKind(
        "no_price_shared",
        N_(
            "no {zone} price for {hours} hours with shared energy: {ranges} (their TIP is not "
            "counted)"
        ),
    ),
    NoteKind(
        "no_price_injection",
        N_("no {zone} price for {hours} hours with injection only: {ranges} (RID not counted)"),
    ),
    NoteKind(
        "no_cu_afa",
        N_(
            "no CU_Afa (TRAS_E) for {month} in community.cu_afa_eur_mwh: its valorisation is "
            "not counted"
        ),
    ),
    NoteKind(
        "no_cu_afb",
        N_(
            "no CU_Afb (BTAU) for {month} in community.cu_afb_eur_mwh: its valorisation is "
            "not counted"
        ),
    ),
    NoteKind(
        "surplus_estimate",
        N_(
            "the surplus earmark is an annual rule: for this period it is an estimate on the "
            "period's energy"
        ),
    ),
    NoteKind(
        "configuration_without_production",
        N_("configuration {cabina} has no production point: it shares nothing (GSE-RULES §8)"),
    ),
    NoteKind(
        "configuration_without_consumption",
        N_("configuration {cabina} has no consumption point: it shares nothing (GSE-RULES §8)"),
    ),
    NoteKind(
        "management_exceeds_tip",
        N_(
            "the management share ({management_eur} €) exceeds the TIP: {rest_eur} € comes "
            "off the valorisation"
        ),
    ),
    NoteKind(
        "no_surplus_recipient",
        N_("no non-business consumer can receive the surplus earmark: it goes to the social fund"),
    ),
    NoteKind(
        "surplus_not_covered",
        N_(
            "the statute leaves too little for the surplus earmark of {surplus_eur} € "
            "(GSE-RULES §4): management and funds must be reduced"
        ),
    ),
    NoteKind(
        "no_consumer",
        N_("no consumer to share {rest_eur} € with: it goes to the social fund"),
    ),
    NoteKind(
        "plant_starts_next_month",
        N_("plant {plant} comes into service on {day}: its acconto starts next month"),
    ),
)

BY_CODE: Final[dict[str, NoteKind]] = {kind.code: kind for kind in NOTES}
_FIELD = re.compile(r"\{(\w+)\}")


@cache
def _pattern(template: str) -> re.Pattern[str]:
    parts: list[str] = []
    last = 0
    for match in _FIELD.finditer(template):
        parts.append(re.escape(template[last : match.start()]))
        parts.append(f"(?P<{match.group(1)}>.+?)")
        last = match.end()
    parts.append(re.escape(template[last:]))
    return re.compile("^" + "".join(parts) + "$", re.DOTALL)


def parse_note(text: str) -> tuple[NoteKind, dict[str, str]] | None:
    """The kind of an engine note and its parameters (as written), or None if unknown."""
    for kind in NOTES:
        match = _pattern(kind.template).match(text)
        if match is not None:
            return kind, match.groupdict()
    return None


def note_text(code: str, **params: object) -> str:
    """The English sentence of a note (what the engine writes)."""
    return BY_CODE[code].template.format(**params)
