"""Issue #12, defect 10 against the contract stub: a batch refused whole with a 4xx (here 422,
as an older backend or a proxy could answer) is halved until the reading at fault is alone;
it is set aside with the repair issue and every other hour is sent (the real backend's 5xx
case is in tests/e2e/test_poison_batch.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cer_community.accounting import HourReading
from custom_components.cer_community.api import CerApiClient
from custom_components.cer_community.const import DOMAIN
from custom_components.cer_community.uploader import SiteUploader

from .backend_stub import BackendStub, Token

POD = "IT001E00000001"
TOKEN = "site-token"
POISON_WH = 666


@pytest.fixture
async def backend(socket_enabled: None) -> AsyncIterator[BackendStub]:
    stub = BackendStub({POD}, {TOKEN: Token("site", {POD})})
    await stub.start()
    yield stub
    await stub.stop()


async def test_a_batch_refused_whole_is_taken_apart(
    hass: HomeAssistant, backend: BackendStub
) -> None:
    backend.poison_withdrawn_wh = POISON_WH
    entry = MockConfigEntry(domain=DOMAIN, data={"pod": POD}, unique_id=POD)
    entry.add_to_hass(hass)
    api = CerApiClient.from_hass(hass, backend.url, TOKEN)
    uploader = await SiteUploader.async_create(hass, entry, pod=POD, api=api, live_interval=None)
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    hours = [last - timedelta(hours=h) for h in range(20)]
    poison = hours[13]
    uploader.buffer.add(
        HourReading(
            hour_start=hour,
            injected_wh=0,
            withdrawn_wh=POISON_WH if hour == poison else 100 + n,
            produced_wh=None,
            consumed_wh=None,
            quality="measured",
            samples=360,
        )
        for n, hour in enumerate(hours)
    )

    await uploader.upload_now()

    status = uploader.status
    assert (status.pending_hours, status.rejected_hours) == (0, 1)
    assert {hour for _, hour in backend.stored} == {h.astimezone(UTC) for h in hours} - {
        poison.astimezone(UTC)
    }
    (refused,) = uploader.buffer.rejected.values()
    assert refused.reading["withdrawn_wh"] == POISON_WH
    assert "422" in refused.message
    issue = ir.async_get(hass).async_get_issue(DOMAIN, uploader.buffer.issue_id)
    assert issue is not None
    refusals = [r for r in backend.requests if r[1].endswith("/readings") and r[2] == 422]
    assert len(refusals) <= 2 * 5  # halving: about two refusals per level of 20 -> 1
    await uploader.async_stop()
