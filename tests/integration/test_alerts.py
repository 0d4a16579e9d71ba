"""The backend's alerts on the community entry: the count sensor, a repair issue per
unacknowledged alert (gone when the backend no longer lists it), and the fix flow that
acknowledges it with a note (an admin token; a viewer token is told it may not)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.repairs import repairs_flow_manager
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component

from custom_components.cer_community.alerts import issue_id
from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.const import DOMAIN
from tests.integration.backend_stub import BackendStub, Token
from tests.integration.conftest import community_entry, setup_entry, unload_entry

ADMIN_TOKEN = "admin-token-comune"
SENSOR = "sensor.cer_comune_open_alerts"


def _alert(alert_id: int, kind: str, message: str, acknowledged: bool = False) -> dict[str, Any]:
    return {
        "id": alert_id,
        "community": "cer-comune",
        "kind": kind,
        "cause": f"{kind}:{alert_id}",
        "pod": None,
        "subject": None,
        "severity": "warning",
        "message": message,
        "details": {},
        "created_at": "2025-06-15T10:00:00+00:00",
        "resolved_at": None,
        "acknowledged": acknowledged,
        "acknowledged_at": None,
        "ack_note": None,
        "new": False,
    }


async def test_count_sensor_and_an_issue_per_unacknowledged_alert(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    backend.alerts = [
        _alert(1, "production_low", "Impianto scuola: produzione bassa."),
        _alert(2, "member_leaving", "Il socio famiglia_1 esce.", acknowledged=True),
    ]
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    state = hass.states.get(SENSOR)
    assert state is not None and state.state == "2"
    assert state.attributes["acknowledged"] == 1
    assert [a["kind"] for a in state.attributes["alerts"]] == ["production_low", "member_leaving"]
    registry = ir.async_get(hass)
    issue = registry.async_get_issue(DOMAIN, issue_id(entry, 1))
    assert issue is not None and issue.is_fixable
    assert issue.translation_key == "backend_alert"
    assert issue.translation_placeholders == {
        "community": "CER Comune",
        "kind": "production_low",
        "message": "Impianto scuola: produzione bassa.",
    }
    assert registry.async_get_issue(DOMAIN, issue_id(entry, 2)) is None  # acknowledged

    # the cause is gone: the backend no longer lists it, the issue goes at the next poll
    backend.alerts = [backend.alerts[1]]
    await get_runtime_data(entry).alerts.async_refresh()
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, issue_id(entry, 1)) is None
    state = hass.states.get(SENSOR)
    assert state is not None and state.state == "1"

    backend.alerts.append(_alert(3, "site_silent", "Municipio: nessun dato da 4 ore."))
    await get_runtime_data(entry).alerts.async_refresh()
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, issue_id(entry, 3)) is not None
    await unload_entry(hass, entry)
    assert registry.async_get_issue(DOMAIN, issue_id(entry, 3)) is None


async def test_fixing_the_issue_acknowledges_the_alert(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    assert await async_setup_component(hass, "repairs", {})
    backend.tokens[ADMIN_TOKEN] = Token("admin")
    backend.alerts = [_alert(7, "lighting_daytime", "Illuminazione accesa di giorno.")]
    entry = community_entry(backend, ADMIN_TOKEN)
    await setup_entry(hass, entry)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id(entry, 7)})
    assert flow["step_id"] == "confirm"
    result = await manager.async_configure(flow["flow_id"], {"note": "  "})
    assert result["type"] == "form" and result["errors"] == {"note": "note_required"}
    result = await manager.async_configure(flow["flow_id"], {"note": "Timer sostituito"})
    assert result["type"] == "create_entry"
    await hass.async_block_till_done()
    assert backend.acks == [(7, "Timer sostituito")]
    assert ir.async_get(hass).async_get_issue(DOMAIN, issue_id(entry, 7)) is None
    state = hass.states.get(SENSOR)
    assert state is not None and state.state == "1"  # still open, now acknowledged
    assert state.attributes["acknowledged"] == 1
    await unload_entry(hass, entry)


async def test_a_viewer_token_cannot_acknowledge(hass: HomeAssistant, backend: BackendStub) -> None:
    assert await async_setup_component(hass, "repairs", {})
    backend.alerts = [_alert(8, "baseload_jump", "Municipio: consumo notturno alto.")]
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    manager = repairs_flow_manager(hass)
    assert manager is not None
    flow = await manager.async_init(DOMAIN, data={"issue_id": issue_id(entry, 8)})
    result = await manager.async_configure(flow["flow_id"], {"note": "Visto"})
    assert result["type"] == "abort" and result["reason"] == "ack_forbidden"
    assert backend.acks == []
    await unload_entry(hass, entry)


async def test_a_backend_without_alerts_leaves_the_entry_working(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    backend.tokens["site-only"] = Token("site", {"IT001E00000001"})
    entry = community_entry(backend, "site-only")  # may read live figures, not alerts
    await setup_entry(hass, entry)
    sites = hass.states.get("sensor.cer_comune_community_sites")
    assert sites is not None and sites.state == "2"
    state = hass.states.get(SENSOR)
    assert state is not None and state.state == "unavailable"
    assert entry.state.name == "LOADED" and not list(hass.config_entries.flow.async_progress())
    await unload_entry(hass, entry)
