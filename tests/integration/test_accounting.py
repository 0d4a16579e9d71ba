"""Hourly accounting of a site: counters to closed hours (pure code, Europe/Rome hours)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from custom_components.cer_community.accounting import (
    DeviceSample,
    HourReading,
    SiteAccountant,
)
from custom_components.cer_community.const import DeviceRole
from custom_components.cer_community.modbus.quantities import Quantity

ROME = ZoneInfo("Europe/Rome")
STEP = timedelta(minutes=1)


@dataclass
class Site:
    """A simulated site: a grid meter and an inverter with constant powers."""

    withdrawal_w: float = 600.0  # grid power (import positive)
    production_w: float = 1200.0
    imported: float = 10_000.0
    exported: float = 50_000.0
    produced: float = 90_000.0
    clock: datetime | None = None

    def at(self, moment: datetime) -> None:
        """Let the site run until ``moment`` (energy flows whether it is polled or not)."""
        if self.clock is not None:
            self.advance(moment - self.clock)
        self.clock = moment

    def advance(self, step: timedelta) -> None:
        hours = step.total_seconds() / 3600
        self.imported += max(self.withdrawal_w, 0) * hours
        self.exported += max(-self.withdrawal_w, 0) * hours
        self.produced += self.production_w * hours

    def samples(self, *, grid: bool = True, inverter: bool = True) -> list[DeviceSample]:
        devices = []
        if grid:
            devices.append(
                DeviceSample(
                    "grid",
                    DeviceRole.GRID,
                    {
                        Quantity.ACTIVE_POWER: self.withdrawal_w,
                        Quantity.ENERGY_IMPORTED: self.imported,
                        Quantity.ENERGY_EXPORTED: self.exported,
                    },
                )
            )
        if inverter:
            devices.append(
                DeviceSample(
                    "inverter",
                    DeviceRole.PRODUCTION,
                    {
                        Quantity.ACTIVE_POWER: self.production_w,
                        Quantity.ENERGY_PRODUCED: self.produced,
                    },
                )
            )
        return devices


def _times(start: datetime, end: datetime, step: timedelta = STEP) -> Iterator[datetime]:
    moment = start
    while moment <= end:
        yield moment
        moment += step


def _run(
    accountant: SiteAccountant,
    site: Site,
    start: datetime,
    end: datetime,
    step: timedelta = STEP,
    **which: bool,
) -> list[HourReading]:
    closed: list[HourReading] = []
    for moment in _times(start, end, step):
        site.at(moment)
        closed += accountant.add_sample(moment, site.samples(**which))
    return closed


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ROME)  # type: ignore[misc]


def test_a_full_hour_is_measured_from_counter_deltas() -> None:
    accountant = SiteAccountant(ROME)
    site = Site(withdrawal_w=-600.0)  # exporting 600 W
    closed = _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 11, 2))
    assert len(closed) == 1
    hour = closed[0]
    assert hour.hour_start == _local(2025, 6, 1, 10, 0)
    assert hour.hour_start.isoformat() == "2025-06-01T10:00:00+02:00"
    assert (hour.injected_wh, hour.withdrawn_wh, hour.produced_wh) == (600, 0, 1200)
    assert hour.consumed_wh == 600  # produced + withdrawn - injected
    assert hour.quality == "measured"
    assert hour.samples == 60
    assert hour.as_json()["quality"] == "measured"


def test_the_first_partial_hour_is_estimated() -> None:
    accountant = SiteAccountant(ROME)
    closed = _run(accountant, Site(), _local(2025, 6, 1, 10, 20), _local(2025, 6, 1, 11, 1))
    assert [h.quality for h in closed] == ["estimated"]
    assert closed[0].withdrawn_wh == 400  # 40 minutes at 600 W: what was measured


def test_an_interval_across_the_boundary_is_split_in_proportion_to_time() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    step = timedelta(minutes=4)
    closed = _run(accountant, site, _local(2025, 6, 1, 9, 58), _local(2025, 6, 1, 11, 2), step=step)
    by_hour = {h.hour_start.hour: h for h in closed}
    assert by_hour[10].withdrawn_wh == 600
    assert by_hour[10].quality == "measured"


def _day(accountant: SiteAccountant, start: datetime, end: datetime) -> list[HourReading]:
    site = Site()
    return _run(
        accountant, site, start.astimezone(UTC), end.astimezone(UTC), step=timedelta(minutes=5)
    )


def test_spring_forward_day_has_23_hours() -> None:
    accountant = SiteAccountant(ROME)
    closed = _day(accountant, _local(2025, 3, 30, 0, 0), _local(2025, 3, 31, 0, 5))
    assert len(closed) == 23
    starts = [h.hour_start.isoformat() for h in closed]
    assert "2025-03-30T01:00:00+01:00" in starts
    assert "2025-03-30T03:00:00+02:00" in starts
    assert not any(s.startswith("2025-03-30T02:") for s in starts)
    assert {h.withdrawn_wh for h in closed[1:]} == {600}  # each an hour long
    assert all(h.quality == "measured" for h in closed[1:])


def test_fall_back_day_has_25_hours_and_two_2_am() -> None:
    accountant = SiteAccountant(ROME)
    closed = _day(accountant, _local(2025, 10, 26, 0, 0), _local(2025, 10, 27, 0, 5))
    assert len(closed) == 25
    starts = [h.hour_start.isoformat() for h in closed]
    assert "2025-10-26T02:00:00+02:00" in starts
    assert "2025-10-26T02:00:00+01:00" in starts
    assert len(set(starts)) == 25
    assert sum(h.withdrawn_wh for h in closed) == 25 * 600
    assert sum(h.samples for h in closed) == 25 * 12


def test_a_counter_reset_is_estimated_from_power_and_never_zero() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    closed = _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 30))
    site.at(_local(2025, 6, 1, 10, 30, 30))
    site.imported = 0.0  # the meter's counter was reset at 10:30:30
    start = _local(2025, 6, 1, 10, 31)
    closed += _run(accountant, site, start, _local(2025, 6, 1, 11, 1))
    assert len(closed) == 1
    hour = closed[0]
    assert hour.quality == "estimated"
    assert 590 <= hour.withdrawn_wh <= 610  # the reset minute estimated from 600 W
    anomalies = accountant.pop_anomalies()
    assert [(a.device_id, a.quantity, a.kind) for a in anomalies] == [
        ("grid", Quantity.ENERGY_IMPORTED, "backwards")
    ]
    assert accountant.pop_anomalies() == []


def test_a_counter_going_backwards_once_is_dropped() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    closed = _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 30))
    site.at(_local(2025, 6, 1, 10, 31))
    odd = site.samples()
    odd[0] = DeviceSample(
        "grid",
        DeviceRole.GRID,
        {**odd[0].values, Quantity.ENERGY_IMPORTED: site.imported - 500},
    )
    closed += accountant.add_sample(_local(2025, 6, 1, 10, 31), odd)
    closed += _run(accountant, site, _local(2025, 6, 1, 10, 32), _local(2025, 6, 1, 11, 1))
    hour = closed[0]
    assert hour.withdrawn_wh == 600  # the misread value counted nothing
    assert hour.quality == "estimated"
    assert accountant.pop_anomalies()[0].kind == "backwards"


def test_an_implausible_jump_is_refused() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    closed = _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 30))
    site.at(_local(2025, 6, 1, 10, 31))
    site.at(_local(2025, 6, 1, 10, 31))
    odd = site.samples()
    odd[0] = DeviceSample(
        "grid", DeviceRole.GRID, {**odd[0].values, Quantity.ENERGY_IMPORTED: 4.2e9}
    )
    closed += accountant.add_sample(_local(2025, 6, 1, 10, 31), odd)
    closed += _run(accountant, site, _local(2025, 6, 1, 10, 32), _local(2025, 6, 1, 11, 1))
    assert closed[0].withdrawn_wh == 600
    assert accountant.pop_anomalies()[0].kind == "jump"


def test_a_gap_across_the_boundary_is_spread_and_estimated() -> None:
    """Home Assistant down from 10:20 to 11:40: the energy is spread, not lost."""
    accountant = SiteAccountant(ROME)
    site = Site()
    closed = _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 20))
    closed += _run(accountant, site, _local(2025, 6, 1, 11, 40), _local(2025, 6, 1, 12, 1))
    assert [h.hour_start.hour for h in closed] == [10, 11]
    assert [h.quality for h in closed] == ["estimated", "estimated"]
    assert [h.withdrawn_wh for h in closed] == [600, 600]
    assert [h.samples for h in closed] == [21, 20]


def test_hours_inside_a_gap_have_every_figure() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    closed = _run(accountant, site, _local(2025, 6, 1, 9, 0), _local(2025, 6, 1, 9, 50))
    closed += _run(accountant, site, _local(2025, 6, 1, 12, 10), _local(2025, 6, 1, 13, 1))
    by_hour = {h.hour_start.hour: h for h in closed}
    assert sorted(by_hour) == [9, 10, 11, 12]
    for hour in (10, 11):  # no poll at all in these hours
        assert by_hour[hour].samples == 0
        assert by_hour[hour].quality == "estimated"
        assert (by_hour[hour].withdrawn_wh, by_hour[hour].produced_wh) == (600, 1200)
        assert by_hour[hour].consumed_wh == 1800


def test_a_grid_meter_briefly_unreachable_is_not_counted_twice() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    load = DeviceSample("building", DeviceRole.LOAD, {Quantity.ACTIVE_POWER: 1800.0})
    closed: list[HourReading] = []
    for minute in range(62):
        moment = _local(2025, 6, 1, 10, 0) + timedelta(minutes=minute)
        site.at(moment)
        grid_answers = not 20 <= minute < 23  # three polls without the grid meter
        closed += accountant.add_sample(moment, [*site.samples(grid=grid_answers), load])
    hour = closed[0]
    assert (hour.withdrawn_wh, hour.injected_wh) == (600, 0)
    assert hour.quality == "measured"


def test_an_inverter_asleep_at_night_does_not_spoil_the_hours() -> None:
    accountant = SiteAccountant(ROME)
    site = Site(production_w=0.0)
    closed = _run(accountant, site, _local(2025, 6, 1, 2, 0), _local(2025, 6, 1, 2, 10))
    closed += _run(
        accountant, site, _local(2025, 6, 1, 2, 11), _local(2025, 6, 1, 5, 30), inverter=False
    )
    site.production_w = 60.0
    closed += _run(accountant, site, _local(2025, 6, 1, 5, 31), _local(2025, 6, 1, 6, 1))
    assert [h.hour_start.hour for h in closed] == [2, 3, 4, 5]
    assert {h.quality for h in closed} == {"measured"}
    assert closed[-1].produced_wh == 30


def test_a_device_back_after_a_gap_revises_the_closed_hours() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    closed = _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 30))
    # the inverter stops answering at 10:30 while producing; the grid meter goes on
    closed += _run(
        accountant, site, _local(2025, 6, 1, 10, 31), _local(2025, 6, 1, 11, 10), inverter=False
    )
    assert [(h.hour_start.hour, h.produced_wh) for h in closed] == [(10, 600)]
    revised = _run(accountant, site, _local(2025, 6, 1, 11, 11), _local(2025, 6, 1, 11, 12))
    assert [(h.hour_start.hour, h.produced_wh, h.quality) for h in revised] == [
        (10, 1200, "estimated")
    ]


def test_without_a_grid_meter_exchange_is_derived_from_power() -> None:
    accountant = SiteAccountant(ROME)
    closed: list[HourReading] = []
    produced, consumed = 0.0, 0.0
    for minute in range(62):
        moment = _local(2025, 6, 1, 10, 0) + timedelta(minutes=minute)
        # production 2 kW for the first half hour, then none; lighting/building 1 kW
        production = 2000.0 if minute < 30 else 0.0
        closed += accountant.add_sample(
            moment,
            [
                DeviceSample(
                    "inverter",
                    DeviceRole.PRODUCTION,
                    {Quantity.ACTIVE_POWER: production, Quantity.ENERGY_PRODUCED: produced},
                ),
                DeviceSample(
                    "building",
                    DeviceRole.LOAD,
                    {Quantity.ACTIVE_POWER: 1000.0, Quantity.ENERGY_IMPORTED: consumed},
                ),
            ],
        )
        produced += production / 60
        consumed += 1000.0 / 60
    hour = closed[0]
    assert hour.quality == "derived"
    # +1 kW until 10:29, a ramp to -1 kW at 10:30 (a triangle of 4 Wh each side), then -1 kW
    assert hour.injected_wh == round(29 * 1000 / 60 + 1000 / 2 / 120)
    assert hour.withdrawn_wh == round(30 * 1000 / 60 + 1000 / 2 / 120)
    assert hour.produced_wh == 1000
    assert hour.consumed_wh == 1000
    figures = accountant.hour_so_far(_local(2025, 6, 1, 11, 1, 30))
    assert figures.withdrawal_w == 1000.0
    assert figures.injection_w == 0.0


def test_site_power_is_unknown_while_the_grid_meter_is_down() -> None:
    """Issue #14 item 12: with the grid meter silent, the site's power kept the meter's last
    value for 5 minutes and then became production − load of the other devices (594.9 W while
    3,055 W were exchanged). It is unknown from the first poll without the meter, and the
    hour's energy is still corrected from the counters when the meter answers again."""
    accountant = SiteAccountant(ROME)
    site = Site(withdrawal_w=3055.0, production_w=1200.0)
    load = DeviceSample("building", DeviceRole.LOAD, {Quantity.ACTIVE_POWER: 1794.9})
    start = _local(2025, 6, 1, 10, 0)
    for minute in range(10):
        moment = start + timedelta(minutes=minute)
        site.at(moment)
        accountant.add_sample(moment, [*site.samples(), load])
    assert accountant.hour_so_far(start + timedelta(minutes=9)).withdrawal_w == 3055.0
    closed: list[HourReading] = []
    for minute in range(10, 17):  # a 7-minute meter outage
        moment = start + timedelta(minutes=minute)
        site.at(moment)
        closed += accountant.add_sample(moment, [*site.samples(grid=False), load])
        figures = accountant.hour_so_far(moment)
        assert (figures.withdrawal_w, figures.injection_w) == (None, None), minute
        assert figures.production_w == 1200.0  # what is known is still shown
        assert figures.load_w == 1794.9
    for minute in range(17, 62):
        moment = start + timedelta(minutes=minute)
        site.at(moment)
        closed += accountant.add_sample(moment, [*site.samples(), load])
    assert accountant.hour_so_far(start + timedelta(minutes=61)).withdrawal_w == 3055.0
    hour = closed[0]
    assert hour.withdrawn_wh == 3055  # the counters cover the outage


def test_hour_so_far_for_live_sensors() -> None:
    accountant = SiteAccountant(ROME)
    site = Site(withdrawal_w=-600.0)
    _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 30))
    figures = accountant.hour_so_far(_local(2025, 6, 1, 10, 30, 5))
    assert figures.hour_start == _local(2025, 6, 1, 10, 0)
    assert round(figures.injected_wh) == 300
    assert figures.self_consumed_wh is not None
    assert round(figures.self_consumed_wh) == 300
    assert figures.injection_w == 600.0
    assert figures.production_w == 1200.0
    empty = accountant.hour_so_far(_local(2025, 6, 1, 14, 0))
    assert empty.injected_wh == 0.0
    assert empty.injection_w is None  # nothing polled for longer than a gap


def test_an_hour_is_right_across_a_restart() -> None:
    """State saved at 10:30 and loaded by a new accountant after a 3-minute restart."""
    before = SiteAccountant(ROME)
    site = Site()
    closed = _run(before, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 30))
    saved = json.loads(json.dumps(before.to_dict()))

    after = SiteAccountant(ROME)
    after.load_dict(saved)
    closed += _run(after, site, _local(2025, 6, 1, 10, 33), _local(2025, 6, 1, 11, 1))
    assert len(closed) == 1
    assert closed[0].withdrawn_wh == 600
    assert closed[0].quality == "measured"
    assert closed[0].samples == 58  # two polls missed while Home Assistant restarted


def test_hour_reading_round_trip() -> None:
    reading = HourReading(_local(2025, 6, 1, 10, 0), 1, 2, None, 3, "derived", 4)
    assert HourReading.from_json(reading.as_json()) == reading
    assert "produced_wh" not in reading.as_json()


def test_values_that_are_not_numbers_count_as_missing() -> None:
    accountant = SiteAccountant(ROME)
    site = Site()
    closed = _run(accountant, site, _local(2025, 6, 1, 10, 0), _local(2025, 6, 1, 10, 30))
    site.at(_local(2025, 6, 1, 10, 31))
    odd = site.samples()
    odd[0] = DeviceSample(
        "grid",
        DeviceRole.GRID,
        {Quantity.ACTIVE_POWER: float("nan"), Quantity.ENERGY_IMPORTED: float("inf")},
    )
    closed += accountant.add_sample(_local(2025, 6, 1, 10, 31), odd)
    closed += _run(accountant, site, _local(2025, 6, 1, 10, 32), _local(2025, 6, 1, 11, 1))
    assert (closed[0].withdrawn_wh, closed[0].quality) == (600, "measured")
    assert accountant.pop_anomalies() == []
