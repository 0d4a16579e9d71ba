"""What the alert rules read from a community: thresholds, where it is, POD roles, recipients.

The one adapter between the community file (FORMATS.md: ``community.location``, a POD's
``role``, ``settings.report_recipients``, ``settings.alert_webhook_url``,
``settings.alerts``) and the rules. Thresholds are data
(:data:`cer_backend.domain.alert_thresholds.DEFAULTS`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...domain.alert_thresholds import alert_settings_problems, merged_thresholds


@dataclass(frozen=True)
class AlertProfile:
    """A community's alert configuration: thresholds merged over the defaults, and more."""

    thresholds: dict[str, dict[str, Any]]
    enabled: dict[str, bool]
    latitude: float
    longitude: float
    roles: dict[str, str] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()
    webhook_url: str | None = None
    language: str = "it"
    warnings: tuple[str, ...] = ()

    def value(self, rule: str, name: str) -> Any:
        """The threshold ``name`` of ``rule`` in force for this community."""
        return self.thresholds[rule][name]


def profile_of(community: Any) -> AlertProfile:
    """The alert profile of a parsed community (``domain.community.Community``).

    Read defensively (``getattr`` with defaults), so a community object without one of the
    optional keys still gets every default.
    """
    settings = getattr(community, "settings", None)
    raw_alerts = getattr(settings, "alerts", None) or {}
    thresholds, enabled = merged_thresholds(raw_alerts)
    warnings = tuple(f"{p}: {m}" for p, m in alert_settings_problems(raw_alerts))
    where = getattr(community, "where", None)
    latitude = float(getattr(where, "lat", 42.5))
    longitude = float(getattr(where, "lon", 12.5))
    roles: dict[str, str] = {}
    for pod, point in (getattr(community, "points_by_pod", None) or {}).items():
        role = getattr(point, "role", None)
        if role:
            roles[pod] = str(role)
    return AlertProfile(
        thresholds=thresholds,
        enabled=enabled,
        latitude=latitude,
        longitude=longitude,
        roles=roles,
        recipients=tuple(getattr(settings, "report_recipients", ()) or ()),
        webhook_url=getattr(settings, "alert_webhook_url", None),
        language=str(getattr(settings, "language", "it") or "it"),
        warnings=warnings,
    )
