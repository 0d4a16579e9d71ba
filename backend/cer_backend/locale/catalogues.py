"""Extraction of the package's messages and their catalogues (Babel)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ..i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE_DIR = Path(__file__).resolve().parents[1]


def source_messages() -> dict[str, str]:
    """Every message id of the package's source (``_``, ``gettext``, ``N_``), with its file."""
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE_DIR), method_map=[("**.py", "python")]
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for item in ids:
            if item:
                found.setdefault(item, f"{filename}:{lineno}")
    return found


def catalogue_path(code: str) -> Path:
    """The ``.po`` source of a language."""
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalogue(code: str) -> Catalog:
    """A language's catalogue."""
    with catalogue_path(code).open("rb") as handle:
        return read_po(handle, locale=code, domain=DOMAIN)


def untranslated(code: str, messages: dict[str, str]) -> list[str]:
    """Message ids of the source without a translation (or marked fuzzy) in a catalogue."""
    catalogue = read_catalogue(code)
    missing = []
    for message in messages:
        entry = catalogue.get(message)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(message)
    return missing


def update(code: str, messages: dict[str, str]) -> list[str]:
    """Add the new message ids to a catalogue, drop the unused ones; return the untranslated."""
    catalogue = read_catalogue(code)
    fresh = Catalog(
        locale=code,
        domain=DOMAIN,
        header_comment="# Messages of the cer_backend reports, statements, exports and e-mails.",
        project="cer-backend",
        version="1",
        charset="utf-8",
        fuzzy=False,
        creation_date=catalogue.creation_date,
        revision_date=catalogue.revision_date,
        last_translator="cer_community",
        language_team="cer_community",
    )
    for message, where in sorted(messages.items()):
        old = catalogue.get(message)
        string = old.string if old is not None else ""
        if code == "en" and not string:
            string = message  # the source language: the id is the text
        path, _sep, line = where.rpartition(":")
        fresh.add(message, string, locations=[(path, int(line))])
    with catalogue_path(code).open("wb") as handle:
        write_po(handle, fresh, width=100, sort_output=True, include_lineno=False)
    return untranslated(code, messages)


def main(argv: Sequence[str]) -> int:
    """Update (or with ``--check`` only check) every catalogue; 1 when one lacks a text."""
    messages = source_messages()
    status = 0
    for code in LANGUAGES:
        missing = untranslated(code, messages) if "--check" in argv else update(code, messages)
        for message in missing:
            print(f"{catalogue_path(code)}: untranslated: {message!r}")
        status |= bool(missing)
    return status
