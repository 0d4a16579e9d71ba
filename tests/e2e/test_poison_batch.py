"""Issue #12, defect 10: the integration never stalls on a poison batch (real backend).

Before the fix one reading that made a whole batch fail stalled that building for good: the
uploader sent the same oldest batch again and again. Now it halves a batch refused whole (a
4xx other than 401/403/413, or a 5xx several times while ``/health`` is ok) until the
reading(s) at fault are alone, sets those aside with the repair issue, and sends the rest.

Here the real backend fails on one reading every time while it is healthy (a SQLite trigger
in the backend's database aborts that insert: 500 for the whole batch); the 4xx case is in
tests/integration/test_poison_batch.py (the contract stub answers 422 for the whole batch).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.cer_community.accounting import HourReading
from custom_components.cer_community.api import CerApiClient
from custom_components.cer_community.const import DOMAIN
from custom_components.cer_community.uploader import POISON_SERVER_ERRORS, SiteUploader

from .conftest import SITE_POD, Backend

POISON_WH = 666


def _hours(count: int) -> list[datetime]:
    last = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    return [last - timedelta(hours=count - 1 - n) for n in range(count)]


def _reading(hour: datetime, withdrawn: int, produced: int | None = None) -> HourReading:
    return HourReading(
        hour_start=hour,
        injected_wh=0,
        withdrawn_wh=withdrawn,
        produced_wh=produced,
        consumed_wh=None,
        quality="measured",
        samples=360,
    )


def _stored_hours(backend: Backend) -> set[datetime]:
    with sqlite3.connect(backend.database) as db:
        rows = db.execute("SELECT hour_start FROM readings WHERE pod = ?", (SITE_POD,)).fetchall()
    return {datetime.fromisoformat(str(h)).replace(tzinfo=UTC) for (h,) in rows}


async def _uploader(hass: HomeAssistant, backend: Backend) -> SiteUploader:
    await hass.async_add_executor_job(backend.start)
    entry = MockConfigEntry(domain=DOMAIN, data={"pod": SITE_POD}, unique_id=SITE_POD)
    entry.add_to_hass(hass)
    api = CerApiClient.from_hass(hass, backend.url, backend.site_token, timeout=10)
    return await SiteUploader.async_create(hass, entry, pod=SITE_POD, api=api, live_interval=None)


def _assert_set_aside(hass: HomeAssistant, uploader: SiteUploader, poison: datetime) -> None:
    status = uploader.status
    assert (status.pending_hours, status.rejected_hours) == (0, 1)
    (refused,) = uploader.buffer.rejected.values()
    assert refused.reading["hour_start"] == poison.isoformat()
    issue = ir.async_get(hass).async_get_issue(DOMAIN, uploader.buffer.issue_id)
    assert issue is not None and issue.translation_key == "upload_rejected"


async def test_a_reading_the_healthy_backend_fails_on_is_isolated_after_a_few_5xx(
    hass: HomeAssistant, backend: Backend
) -> None:
    uploader = await _uploader(hass, backend)
    with sqlite3.connect(backend.database) as db:
        db.execute(
            "CREATE TRIGGER poison BEFORE INSERT ON readings "
            f"WHEN NEW.withdrawn_wh = {POISON_WH} BEGIN SELECT RAISE(ABORT, 'poison'); END"
        )
    hours = _hours(12)
    poison = hours[7]
    uploader.buffer.add(
        [_reading(h, POISON_WH if h == poison else 1000 + n) for n, h in enumerate(hours)]
    )
    for _ in range(POISON_SERVER_ERRORS):  # a 5xx may be passing: the batch is retried first
        with pytest.raises(HomeAssistantError):
            await uploader.upload_now()
        assert uploader.status.pending_hours == 12
    assert _stored_hours(backend) == set()

    await uploader.upload_now()  # the backend is healthy: the batch is taken apart

    assert _stored_hours(backend) == set(hours) - {poison}
    _assert_set_aside(hass, uploader, poison)
    assert "500" in uploader.buffer.rejected[next(iter(uploader.buffer.rejected))].message
    await uploader.async_stop()
