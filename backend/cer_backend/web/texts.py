"""The pages' texts: written in Italian, with their English translations (data, not code).

A text without an English entry shows in Italian (a test lists every text of the templates
and the page modules and asks for its translation).
"""

from __future__ import annotations

from typing import Final

LANGUAGES: Final = ("it", "en")

#: Italian text → English
EN: Final[dict[str, str]] = {}


def translate(text: str, language: str) -> str:
    """``text`` in ``language`` (Italian is the source language)."""
    if language == "en":
        return EN.get(text, text)
    return text
