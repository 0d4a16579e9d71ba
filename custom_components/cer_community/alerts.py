"""The backend's alerts in Home Assistant: a count sensor and a repair issue per alert.

The community entry polls ``GET /api/v1/alerts`` every five minutes. Each open alert that
nobody acknowledged yet is a repair issue (Settings → System → Repairs) whose fix
(``repairs.AcknowledgeAlertFlow``) acknowledges it on the backend with a note (an admin
token of the community is needed);
the alert blueprint notifies staff of new issues. The ``open alerts`` sensor counts the open
alerts, acknowledged ones included. An alert the backend no longer lists (its cause is gone)
loses its issue at the next poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.components.sensor import SensorEntity, SensorEntityDescription
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import CoordinatorEntity, DataUpdateCoordinator

from .api import CerApiClient
from .backend_errors import backend_update
from .compat import coordinator_entry_kwargs
from .const import DOMAIN, LOGGER
from .entity import community_device_info

ALERTS_SCAN_INTERVAL = timedelta(minutes=5)
ISSUE_PREFIX = "backend_alert_"
TRANSLATION_KEY = "backend_alert"


@dataclass(frozen=True, slots=True)
class BackendAlert:
    """An open alert of the community, as the backend lists it."""

    id: int
    kind: str
    message: str
    severity: str
    created_at: str
    acknowledged: bool

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> BackendAlert:
        """Read one alert of ``GET /api/v1/alerts``."""
        return cls(
            id=int(raw["id"]),
            kind=str(raw.get("kind") or ""),
            message=str(raw.get("message") or ""),
            severity=str(raw.get("severity") or "warning"),
            created_at=str(raw.get("created_at") or ""),
            acknowledged=bool(raw.get("acknowledged")),
        )


def issue_id(entry: ConfigEntry, alert_id: int) -> str:
    """The repair issue of an alert of this entry's community."""
    return f"{ISSUE_PREFIX}{entry.entry_id}_{alert_id}"


class AlertsCoordinator(DataUpdateCoordinator[list[BackendAlert]]):
    """Polls the open alerts and keeps one repair issue per unacknowledged alert."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, client: CerApiClient) -> None:
        """One coordinator per community entry."""
        super().__init__(
            hass,
            LOGGER,
            name=f"{entry.title} alerts",
            update_interval=ALERTS_SCAN_INTERVAL,
            **coordinator_entry_kwargs(entry),
        )
        self.entry = entry
        self.client = client

    @backend_update("the alerts", forbidden_is_auth=False)
    async def _async_update_data(self) -> list[BackendAlert]:
        raw = await self.client.get_alerts()
        alerts = [BackendAlert.from_json(item) for item in raw]
        self.sync_issues(alerts)
        return alerts

    @callback
    def sync_issues(self, alerts: list[BackendAlert]) -> None:
        """Create the issues of unacknowledged alerts, delete those of the others."""
        wanted = {issue_id(self.entry, a.id): a for a in alerts if not a.acknowledged}
        for existing in self._issue_ids():
            if existing not in wanted:
                ir.async_delete_issue(self.hass, DOMAIN, existing)
        for identifier, alert in wanted.items():
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                identifier,
                is_fixable=True,
                is_persistent=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key=TRANSLATION_KEY,
                translation_placeholders={
                    "community": self.entry.title,
                    "kind": alert.kind,
                    "message": alert.message,
                },
                data={"entry_id": self.entry.entry_id, "alert_id": alert.id},
            )

    def _issue_ids(self) -> list[str]:
        prefix = f"{ISSUE_PREFIX}{self.entry.entry_id}_"
        return [
            identifier
            for domain, identifier in ir.async_get(self.hass).issues
            if domain == DOMAIN and identifier.startswith(prefix)
        ]

    @callback
    def remove_issues(self) -> None:
        """Delete every alert issue of this entry (on unload: the next load recreates them)."""
        for identifier in self._issue_ids():
            ir.async_delete_issue(self.hass, DOMAIN, identifier)


OPEN_ALERTS = SensorEntityDescription(key="open_alerts", translation_key="open_alerts")


class OpenAlertsSensor(CoordinatorEntity[AlertsCoordinator], SensorEntity):
    """How many alerts of the community are open (acknowledged ones included)."""

    _attr_has_entity_name = True
    _attr_native_unit_of_measurement = None

    def __init__(self, coordinator: AlertsCoordinator) -> None:
        """On the community's device."""
        super().__init__(coordinator)
        self.entity_description = OPEN_ALERTS
        entry = coordinator.entry
        self._attr_unique_id = f"community_{entry.entry_id}_open_alerts"
        self._attr_device_info = community_device_info(entry, coordinator.hass.config.language)

    @property
    def native_value(self) -> int | None:
        """The number of open alerts."""
        return None if self.coordinator.data is None else len(self.coordinator.data)

    @property
    def extra_state_attributes(self) -> dict[str, Any]:
        """The open alerts (kind and message) and how many were acknowledged."""
        alerts = self.coordinator.data or []
        return {
            "acknowledged": sum(1 for a in alerts if a.acknowledged),
            "alerts": [
                {"id": a.id, "kind": a.kind, "message": a.message, "since": a.created_at}
                for a in alerts
            ],
        }
