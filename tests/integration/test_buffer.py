"""The persistent buffer of closed hours (Home Assistant ``Store``, mocked by ``hass_storage``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.cer_community.accounting import HourReading
from custom_components.cer_community.buffer import (
    MAX_PENDING_HOURS,
    STORAGE_VERSION,
    ReadingBuffer,
    hour_key,
    storage_key,
)
from custom_components.cer_community.const import DOMAIN

POD = "IT001E00000001"
ROME = ZoneInfo("Europe/Rome")
START = datetime(2025, 6, 1, 0, 0, tzinfo=ROME)


def _hour(offset: int, injected: int = 100, quality: str = "measured") -> HourReading:
    return HourReading(
        hour_start=(START + timedelta(hours=offset)).astimezone(ROME),
        injected_wh=injected,
        withdrawn_wh=5,
        produced_wh=None,
        consumed_wh=None,
        quality=quality,  # type: ignore[arg-type]
        samples=360,
    )


async def test_an_hour_is_kept_once_and_a_revision_replaces_it(hass: HomeAssistant) -> None:
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    assert buffer.add([_hour(0), _hour(1)]) == 2
    assert buffer.add([_hour(0)]) == 0  # the same hour again: nothing new
    assert buffer.add([_hour(0, injected=150, quality="estimated")]) == 1
    assert buffer.pending_count == 2
    first = buffer.pending(10)[0]
    assert first["injected_wh"] == 150
    assert first["hour_start"] == "2025-06-01T00:00:00+02:00"
    assert buffer.oldest_pending() == START.astimezone(UTC)


async def test_only_acknowledged_unchanged_readings_leave(hass: HomeAssistant) -> None:
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    buffer.add([_hour(0), _hour(1)])
    sent = buffer.pending(744)
    buffer.add([_hour(1, injected=999)])  # revised while the upload was on the way
    assert buffer.acknowledge(sent) == 1
    assert [r["injected_wh"] for r in buffer.pending(744)] == [999]


async def test_pending_comes_oldest_first_in_batches(hass: HomeAssistant) -> None:
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    buffer.add([_hour(h) for h in reversed(range(30))])
    batch = buffer.pending(10)
    assert [r["hour_start"] for r in batch] == [
        (START + timedelta(hours=h)).isoformat() for h in range(10)
    ]


async def test_the_buffer_holds_90_days_and_is_bounded(hass: HomeAssistant) -> None:
    assert MAX_PENDING_HOURS >= 90 * 24
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    buffer.add([_hour(h) for h in range(90 * 24)])
    assert buffer.pending_count == 90 * 24
    assert buffer.dropped == 0

    small = ReadingBuffer(hass, "other", POD, max_pending=48)
    await small.async_load()
    small.add([_hour(h) for h in range(50)])
    assert small.pending_count == 48
    assert small.dropped == 2
    assert small.oldest_pending() == (START + timedelta(hours=2)).astimezone(UTC)


async def test_survives_a_restart(hass: HomeAssistant, hass_storage: dict[str, Any]) -> None:
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    buffer.state_provider = lambda: {"version": 1, "marker": "accounting"}
    buffer.add([_hour(0), _hour(1)])
    buffer.extra["last_success"] = "2025-06-01T03:00:00+00:00"
    await buffer.async_save()

    stored = hass_storage[storage_key("entry")]
    assert stored["version"] == STORAGE_VERSION
    assert stored["key"] == "cer_community.site.entry"
    assert len(stored["data"]["pending"]) == 2

    again = ReadingBuffer(hass, "entry", POD)
    state = await again.async_load()
    assert state == {"version": 1, "marker": "accounting"}
    assert again.pending(10) == buffer.pending(10)
    assert again.extra["last_success"] == "2025-06-01T03:00:00+00:00"


async def test_hours_of_another_pod_are_not_sent(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    hass_storage[storage_key("entry")] = {
        "version": STORAGE_VERSION,
        "minor_version": 1,
        "key": storage_key("entry"),
        "data": {
            "pod": "IT001E99999999",
            "pending": {hour_key(START): _hour(0).as_json()},
            "accounting": {"version": 1},
        },
    }
    buffer = ReadingBuffer(hass, "entry", POD)
    assert await buffer.async_load() == {}
    assert buffer.pending_count == 0


async def test_rejected_readings_are_kept_aside_with_a_repair_issue(
    hass: HomeAssistant, hass_storage: dict[str, Any]
) -> None:
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    buffer.add([_hour(0), _hour(1)])
    first = buffer.pending(1)[0]
    buffer.reject(first, "period settled", datetime(2025, 7, 1, tzinfo=UTC))
    assert buffer.pending_count == 1
    assert list(buffer.rejected) == [hour_key(START)]

    issue = ir.async_get(hass).async_get_issue(DOMAIN, buffer.issue_id)
    assert issue is not None
    assert issue.severity == ir.IssueSeverity.WARNING
    assert issue.translation_placeholders == {
        "pod": POD,
        "count": "1",
        "hour": "2025-06-01T00:00:00+02:00",
        "message": "period settled",
    }

    # the same values again stay aside; a revision goes back in the queue
    assert buffer.add([_hour(0)]) == 0
    await buffer.async_save()
    reloaded = ReadingBuffer(hass, "entry", POD)
    await reloaded.async_load()
    assert list(reloaded.rejected) == [hour_key(START)]
    assert reloaded.add([_hour(0, injected=101)]) == 1
    assert reloaded.rejected == {}
    assert ir.async_get(hass).async_get_issue(DOMAIN, buffer.issue_id) is None


async def test_requeue_puts_rejected_back(hass: HomeAssistant) -> None:
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    buffer.add([_hour(0)])
    buffer.reject(buffer.pending(1)[0], "no", datetime(2025, 7, 1, tzinfo=UTC))
    assert buffer.requeue_rejected() == 1
    assert buffer.pending_count == 1
    assert ir.async_get(hass).async_get_issue(DOMAIN, buffer.issue_id) is None


def test_hour_key_is_the_utc_instant() -> None:
    assert hour_key("2025-10-26T02:00:00+02:00") == "2025-10-26T00:00:00+00:00"
    assert hour_key("2025-10-26T02:00:00+01:00") == "2025-10-26T01:00:00+00:00"


async def test_frequent_polls_do_not_postpone_the_write(
    hass: HomeAssistant, hass_storage: dict[str, Any], freezer: FrozenDateTimeFactory
) -> None:
    buffer = ReadingBuffer(hass, "entry", POD)
    await buffer.async_load()
    buffer.add([_hour(0)])  # due in a second
    for _ in range(5):
        buffer.async_schedule_save(60)  # a poll every 10 s asks for a lazy write
        freezer.tick(timedelta(seconds=0.3))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    freezer.tick(timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(hass_storage[storage_key("entry")]["data"]["pending"]) == 1
