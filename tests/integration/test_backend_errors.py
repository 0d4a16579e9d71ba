"""The one mapping of backend errors (``backend_errors.backend_update``, review item D2) on
each coordinator that reads the backend: live figures, money, alerts.

A backend that fails (5xx), answers outside the contract or is down makes the coordinator's
update fail (its entities unavailable, no reauth); a refused token (401) starts reauth; a
token that may not read alerts (403) fails the alerts update only, without reauth.
"""

from __future__ import annotations

import pytest
from homeassistant.core import HomeAssistant

from custom_components.cer_community.compat import get_runtime_data
from custom_components.cer_community.const import DOMAIN
from tests.integration.backend_stub import BackendStub
from tests.integration.conftest import (
    VIEWER_TOKEN,
    community_entry,
    setup_entry,
    unload_entry,
)

COORDINATORS = ("community", "money", "alerts")


def _reauth_flows(hass: HomeAssistant) -> list[str]:
    return [
        flow["context"]["source"]
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    ]


@pytest.mark.parametrize("name", COORDINATORS)
@pytest.mark.parametrize("status", [500, 503])
async def test_a_failing_backend_fails_the_update_without_reauth(
    hass: HomeAssistant, backend: BackendStub, name: str, status: int
) -> None:
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    coordinator = getattr(get_runtime_data(entry), name)
    assert coordinator.last_update_success
    backend.fail_status = status
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert f"{status}" in str(coordinator.last_exception)
    assert _reauth_flows(hass) == []
    backend.fail_status = None
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    await unload_entry(hass, entry)


@pytest.mark.parametrize("name", COORDINATORS)
async def test_a_backend_that_is_down_fails_the_update(
    hass: HomeAssistant, backend: BackendStub, name: str
) -> None:
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    coordinator = getattr(get_runtime_data(entry), name)
    await backend.stop()
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert _reauth_flows(hass) == []
    await backend.start()
    await unload_entry(hass, entry)


@pytest.mark.parametrize("name", COORDINATORS)
async def test_a_refused_token_starts_reauth(
    hass: HomeAssistant, backend: BackendStub, name: str
) -> None:
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    coordinator = getattr(get_runtime_data(entry), name)
    del backend.tokens[VIEWER_TOKEN]  # revoked: 401 on every request
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert not coordinator.last_update_success
    assert _reauth_flows(hass) == ["reauth"]
    await unload_entry(hass, entry)


async def test_a_token_that_may_not_read_alerts_is_no_reason_to_reauth(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    alerts = get_runtime_data(entry).alerts
    backend.tokens[VIEWER_TOKEN].role = "site"  # the stub answers 403 to a site token
    await alerts.async_refresh()
    await hass.async_block_till_done()
    assert not alerts.last_update_success
    assert "may not read the alerts" in str(alerts.last_exception)
    assert _reauth_flows(hass) == []
    await unload_entry(hass, entry)


async def test_an_answer_outside_the_contract_fails_the_update(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    """An alert without an id is an answer the coordinator cannot read: an update failure
    (the ``KeyError`` is mapped, not raised as an unexpected error)."""
    entry = community_entry(backend)
    await setup_entry(hass, entry)
    alerts = get_runtime_data(entry).alerts
    backend.alerts = [{"kind": "site_silent"}]
    await alerts.async_refresh()
    assert not alerts.last_update_success
    assert "not available" in str(alerts.last_exception)
    await unload_entry(hass, entry)
