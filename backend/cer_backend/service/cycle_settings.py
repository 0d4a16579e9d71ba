"""The community's operating settings (FORMATS.md ``settings:``), each with its default.

The one place the operating cycle reads them: a key absent from the community's document (or
a document from before the key existed) gives the default of the domain's ``Settings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ..domain.community import Settings

_DEFAULTS = Settings()
#: FORMATS.md ``settings:`` keys the operating cycle reads, with their defaults
DEFAULTS: dict[str, Any] = {
    # a run under this coverage of POD-hours is finalised only when forced (with a reason)
    "finalise_min_coverage_pct": Decimal(_DEFAULTS.finalise_min_coverage_pct),
}


def community_setting(document: Mapping[str, Any], name: str) -> Any:
    """The value of ``settings.<name>`` of a community document, or its default."""
    settings = document.get("settings") if isinstance(document, Mapping) else None
    value = settings.get(name) if isinstance(settings, Mapping) else None
    return DEFAULTS[name] if value is None else value
