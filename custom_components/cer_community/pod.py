"""POD codes (punto di prelievo): ``IT`` + 3-digit distributor + ``E`` + 8 or 9 digits."""

from __future__ import annotations

import re

_POD_RE = re.compile(r"^IT\d{3}E\d{8,9}$")


def normalise_pod(value: str) -> str:
    """Return the POD in canonical form (upper case, no spaces)."""
    return re.sub(r"\s+", "", value).upper()


def is_valid_pod(value: str) -> bool:
    """Whether ``value`` (already normalised) is a well-formed POD code."""
    return _POD_RE.fullmatch(value) is not None
