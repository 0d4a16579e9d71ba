"""Small English wording helpers for messages (issue #12: "1 errors", "a admin token")."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """``1 error``, ``0 errors``, ``2 warnings`` (regular English plurals)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def with_article(word: str) -> str:
    """``an admin``, ``a site``, ``a viewer``."""
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"
