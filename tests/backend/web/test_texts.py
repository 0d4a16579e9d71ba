"""Every text of the pages has its English translation; nothing below the web layer uses it."""

from __future__ import annotations

import re
from pathlib import Path

from cer_backend.web.texts import CODES, EN, translate

PACKAGE = Path(__file__).resolve().parents[3] / "backend" / "cer_backend"
WEB = PACKAGE / "web"
TEMPLATE_TEXT = re.compile(r"""_\(\s*"([^"]+)"\s*\)|_\(\s*'([^']+)'\s*\)""")
PYTHON_TEXT = re.compile(r"""_\(request, "([^"]+)"\)|translate\(\s*"([^"]+)\"""")


def _texts() -> set[str]:
    found: set[str] = set()
    for path in WEB.glob("templates/**/*.html"):
        found |= {a or b for a, b in TEMPLATE_TEXT.findall(path.read_text(encoding="utf-8"))}
    for path in WEB.glob("*.py"):
        found |= {a or b for a, b in PYTHON_TEXT.findall(path.read_text(encoding="utf-8"))}
    return found


def test_every_text_of_the_pages_has_its_english() -> None:
    texts = _texts()
    assert len(texts) > 150  # the extraction finds the texts
    missing = sorted(t for t in texts if t not in EN and t not in CODES)
    assert missing == []


def test_codes_read_in_both_languages() -> None:
    assert translate("draft", "it") == "bozza"
    assert translate("draft", "en") == "draft"
    assert translate("Accedi", "en") == "Sign in"
    assert translate("Accedi", "it") == "Accedi"


def test_only_the_application_imports_the_web_layer() -> None:
    importers = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if WEB not in path.parents
        and re.search(r"^from (\.+web|cer_backend\.web)\b", path.read_text(), re.MULTILINE)
    ]
    assert importers == ["app.py"]
