"""Every text of the pages has its English translation; nothing below the web layer uses it."""

from __future__ import annotations

import re
from pathlib import Path

from cer_backend.locale.catalogues import (
    WEB_CODES,
    WEB_DOMAIN,
    read_catalogue,
    untranslated,
    web_messages,
)
from cer_backend.web.texts import translate

PACKAGE = Path(__file__).resolve().parents[3] / "backend" / "cer_backend"
WEB = PACKAGE / "web"
TEMPLATE_TEXT = re.compile(r"""_\(\s*"([^"]+)"\s*\)|_\(\s*'([^']+)'\s*\)""")
PYTHON_TEXT = re.compile(r"""_\(request, "([^"]+)"\)|translate\(\s*"([^"]+)\"""")


def _texts() -> set[str]:
    """The pages' texts found by a plain search (a check on Babel's extraction)."""
    found: set[str] = set()
    for path in WEB.glob("templates/**/*.html"):
        found |= {a or b for a, b in TEMPLATE_TEXT.findall(path.read_text(encoding="utf-8"))}
    for path in WEB.glob("*.py"):
        found |= {a or b for a, b in PYTHON_TEXT.findall(path.read_text(encoding="utf-8"))}
    return found


def test_babel_extracts_every_text_of_the_pages() -> None:
    texts = _texts()
    assert len(texts) > 150  # the search finds the texts
    assert texts <= set(web_messages())


def test_every_text_of_the_pages_has_its_english() -> None:
    messages = web_messages()
    assert untranslated("en", messages, WEB_DOMAIN) == []
    assert untranslated("it", messages, WEB_DOMAIN) == []


def test_the_catalogues_hold_no_text_the_pages_have_lost() -> None:
    messages = set(web_messages())
    for code in ("it", "en"):
        held = {entry.id for entry in read_catalogue(code, WEB_DOMAIN) if entry.id}
        assert held == messages, code


def test_codes_read_in_both_languages() -> None:
    assert translate("draft", "it") == "bozza"
    assert translate("draft", "en") == "draft"
    assert translate("Accedi", "en") == "Sign in"
    assert translate("Accedi", "it") == "Accedi"
    assert translate("Accedi", "xx") == "Accedi"  # an unknown language reads Italian
    for code in WEB_CODES:
        assert translate(code, "it") and translate(code, "en"), code


def test_only_the_application_imports_the_web_layer() -> None:
    importers = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if WEB not in path.parents
        and re.search(r"^from (\.+web|cer_backend\.web)\b", path.read_text(), re.MULTILINE)
    ]
    assert importers == ["app.py"]
