"""Extraction of the package's messages and their catalogues (Babel).

Two domains: ``cer_backend`` (reports, statements, exports, e-mails; English ids) and ``web``
(the pages; Italian ids, from the templates and page modules, and the data's codes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from ..i18n import DOMAIN, LANGUAGES, LOCALE_DIR

PACKAGE_DIR = Path(__file__).resolve().parents[1]
WEB_DIR = PACKAGE_DIR / "web"
WEB_DOMAIN = "web"
#: where the pages' texts are: (Babel method map, keywords) — ``_("…")`` in the templates,
#: ``_(request, "…")`` and ``translate("…", lang)`` in the page modules
WEB_SOURCES = (
    ([("templates/**.html", "jinja2.ext:babel_extract")], {"_": None}),
    ([("*.py", "python")], {"_": (2,), "translate": (1,)}),
)
#: codes of the data that the pages show translated (a run's status and kind, a token's role,
#: a member's type, a diff's sections, an alert's severity, a delivery's status, a plant's
#: source and voltage, a POD's role): their words are in both ``web`` catalogues
WEB_CODES = (
    "draft",
    "final",
    "month",
    "year",
    "correction",
    "admin",
    "site",
    "viewer",
    "members",
    "pods",
    "plants",
    "added",
    "changed",
    "ended",
    "person",
    "sme",
    "association",
    "municipality",
    "public_body",
    "religious",
    "third_sector",
    "environmental",
    "research",
    "warning",
    "info",
    "critical",
    "sent",
    "failed",
    "skipped",
    "would_send",
    "sending",
    "pv",
    "wind",
    "hydro",
    "biogas",
    "other",
    "lv",
    "mv",
    "lighting",
    "building",
)


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


def web_messages() -> dict[str, str]:
    """Every text of the pages (Italian), with its file, and the data's codes."""
    found: dict[str, str] = {}
    for method_map, keywords in WEB_SOURCES:
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(WEB_DIR), method_map=method_map, keywords=keywords
        ):
            ids = message if isinstance(message, tuple) else (message,)
            for item in ids:
                if item:
                    found.setdefault(item, f"web/{filename}:{lineno}")
    for code in WEB_CODES:
        found.setdefault(code, "locale/catalogues.py:1")
    return found


def catalogue_path(code: str, domain: str = DOMAIN) -> Path:
    """The ``.po`` source of a language."""
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"


def read_catalogue(code: str, domain: str = DOMAIN) -> Catalog:
    """A language's catalogue."""
    with catalogue_path(code, domain).open("rb") as handle:
        return read_po(handle, locale=code, domain=domain)


def untranslated(code: str, messages: dict[str, str], domain: str = DOMAIN) -> list[str]:
    """Message ids of the source without a translation (or marked fuzzy) in a catalogue."""
    catalogue = read_catalogue(code, domain)
    missing = []
    for message in messages:
        entry = catalogue.get(message)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(message)
    return missing


#: the language whose texts are the message ids, and the header of each domain's catalogues
SOURCE_LANGUAGE = {DOMAIN: "en", WEB_DOMAIN: "it"}
HEADERS = {
    DOMAIN: "# Messages of the cer_backend reports, statements, exports and e-mails.",
    WEB_DOMAIN: "# Texts of the web pages (console, member page, public page): Italian ids.",
}


def update(code: str, messages: dict[str, str], domain: str = DOMAIN) -> list[str]:
    """Add the new message ids to a catalogue, drop the unused ones; return the untranslated."""
    catalogue = read_catalogue(code, domain)
    fresh = Catalog(
        locale=code,
        domain=domain,
        header_comment=HEADERS[domain],
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
        if code == SOURCE_LANGUAGE[domain] and not string:
            string = message  # the source language: the id is the text
        path, _sep, line = where.rpartition(":")
        fresh.add(message, string, locations=[(path, int(line))])
    with catalogue_path(code, domain).open("wb") as handle:
        write_po(handle, fresh, width=100, sort_output=True, include_lineno=False)
    return untranslated(code, messages, domain)


def main(argv: Sequence[str]) -> int:
    """Update (or with ``--check`` only check) every catalogue; 1 when one lacks a text."""
    status = 0
    for domain, messages in ((DOMAIN, source_messages()), (WEB_DOMAIN, web_messages())):
        for code in LANGUAGES:
            if "--check" in argv:
                missing = untranslated(code, messages, domain)
            else:
                missing = update(code, messages, domain)
            for message in missing:
                print(f"{catalogue_path(code, domain)}: untranslated: {message!r}")
            status |= bool(missing)
    return status
