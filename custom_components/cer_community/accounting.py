"""Hourly accounting of one site (POD): from device readings at each poll to closed hours.

Pure code (no Home Assistant import): :class:`SiteAccountant` is fed the device readings of
every poll and answers the hours it closed. The GSE settles per local hour (Europe/Rome): an
hour's injected energy (*energia immessa*) and withdrawn energy (*energia prelevata*) at the
POD, of which the community's shared energy is the hourly minimum.

How an hour is made
- **Counters** (lifetime Wh of each device) give the energy between two polls as their
  difference. A difference between polls that straddle an hour boundary is split between the
  hours in proportion to time.
- **Gaps**: when two polls of a counter are more than ``max_gap`` apart (Home Assistant down
  across a boundary, a device unreachable), the energy between them is spread over the hours
  in proportion to time and those hours are flagged ``estimated``. A counter that did not move
  across a gap (an inverter asleep at night) leaves the hours alone: nothing was uncertain.
  The part of the very first hour before the first poll is unknown: that hour is
  ``estimated`` as well.
- **Counter resets and counters going backwards**: the value is held back and the hour
  flagged ``estimated``. If the next poll continues from the old value, the odd value was a
  misread and is dropped; if it continues from the new one, the counter was reset (or the
  meter replaced): the energy of the interval is estimated from the device's power and the
  new value becomes the base. **Implausible jumps** (faster than ``max_power_w``) are handled
  the same way: never counted as energy.
- **No grid meter** at the site: injection and withdrawal are *derived* from production and
  load power at each poll, integrating the positive and negative parts of
  (production - load) separately (trapezoids between polls); the hour's quality is
  ``derived``.
- An hour closes at the first poll after its end once every device that was answering has
  been polled past the end, or ``close_grace`` after its end at the latest. Energy that later
  turns out to belong to a closed hour (a device that comes back after a gap) revises that
  hour: it is emitted again with the new totals (the backend replaces a reading with the same
  hour and other values).

The state (bases of the counters, open hours) is a JSON-friendly dict (:meth:`to_dict`,
:meth:`from_dict`), persisted by the buffer so that an hour closed across a restart of Home
Assistant is right.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from .const import MAX_PLAUSIBLE_POWER_W, MIN_PLAUSIBLE_STEP_WH, DeviceRole
from .modbus.quantities import Quantity

Quality = Literal["measured", "estimated", "derived"]
HOUR = timedelta(hours=1)
STATE_VERSION = 1

DEFAULT_MAX_GAP = timedelta(minutes=5)
"""Polls further apart than this are a gap: the hours they span are ``estimated``."""
CLOSED_HOURS_KEPT = 24 * 14
"""Closed hours remembered for revisions (a device back after up to two weeks)."""
GRID_MEMORY = timedelta(days=14)
"""A grid meter silent for longer is taken as removed: figures are derived from then on."""
IDLE_POWER_W = 1.0
"""A device below this power before a gap was idle (an inverter asleep)."""
SLEEP_SLACK_WH = 10.0
"""Energy a device that woke from idle may bring without flagging its hour."""

# Which counter of a device of each role feeds which figure of the hour.
_FIELD_OF_COUNTER: dict[tuple[DeviceRole, Quantity], str] = {
    (DeviceRole.GRID, Quantity.ENERGY_IMPORTED): "withdrawn",
    (DeviceRole.GRID, Quantity.ENERGY_EXPORTED): "injected",
    (DeviceRole.PRODUCTION, Quantity.ENERGY_PRODUCED): "produced",
    (DeviceRole.PRODUCTION, Quantity.ENERGY_EXPORTED): "produced",
    (DeviceRole.LOAD, Quantity.ENERGY_IMPORTED): "load",
}
# Which flag of an hour says that a counter's figure was measured in it.
_FLAG_OF_FIELD = {
    "injected": "has_grid",
    "withdrawn": "has_grid",
    "produced": "has_production",
    "load": "has_load",
}


@dataclass(frozen=True, slots=True)
class DeviceSample:
    """One device's reading at a poll: its id at the site, its role and its values.

    ``values`` follows the Modbus layer's contract (:mod:`.modbus.quantities`): counters in
    Wh, ``ACTIVE_POWER`` in W positive in the device's own direction (grid: withdrawal).
    """

    device_id: str
    role: DeviceRole
    values: Mapping[Quantity, float | int | None]


@dataclass(frozen=True, slots=True)
class HourReading:
    """A closed hour of a POD, as the backend takes it (``POST /api/v1/readings``)."""

    hour_start: datetime
    """Start of the hour, aware, in the local time zone (Europe/Rome)."""
    injected_wh: int
    withdrawn_wh: int
    produced_wh: int | None
    consumed_wh: int | None
    quality: Quality
    samples: int

    def as_json(self) -> dict[str, Any]:
        """The contract's reading object (optional figures left out when unknown)."""
        raw: dict[str, Any] = {
            "hour_start": self.hour_start.isoformat(),
            "injected_wh": self.injected_wh,
            "withdrawn_wh": self.withdrawn_wh,
            "produced_wh": self.produced_wh,
            "consumed_wh": self.consumed_wh,
            "quality": self.quality,
            "samples": self.samples,
        }
        return {key: value for key, value in raw.items() if value is not None}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> HourReading:
        """Read back :meth:`as_json`."""
        return cls(
            hour_start=datetime.fromisoformat(raw["hour_start"]),
            injected_wh=int(raw["injected_wh"]),
            withdrawn_wh=int(raw["withdrawn_wh"]),
            produced_wh=raw.get("produced_wh"),
            consumed_wh=raw.get("consumed_wh"),
            quality=raw.get("quality", "measured"),
            samples=int(raw.get("samples", 0)),
        )


@dataclass(frozen=True, slots=True)
class HourFigures:
    """The current hour so far, and the power now, for live sensors."""

    hour_start: datetime
    injected_wh: float
    withdrawn_wh: float
    produced_wh: float | None
    consumed_wh: float | None
    quality: Quality
    samples: int
    injection_w: float | None
    """Power injected into the grid now (W, >= 0), None before the first poll."""
    withdrawal_w: float | None
    """Power withdrawn from the grid now (W, >= 0)."""
    production_w: float | None
    load_w: float | None

    @property
    def self_consumed_wh(self) -> float | None:
        """Production used on site (*autoconsumo*): produced minus injected."""
        if self.produced_wh is None:
            return None
        return max(0.0, self.produced_wh - self.injected_wh)


@dataclass(frozen=True, slots=True)
class CounterAnomaly:
    """A counter value that was not counted: it went backwards or jumped implausibly."""

    device_id: str
    quantity: Quantity
    kind: Literal["backwards", "jump"]
    previous_wh: float
    value_wh: float
    at: datetime


@dataclass(slots=True)
class _Hour:
    injected: float = 0.0
    withdrawn: float = 0.0
    produced: float = 0.0
    load: float = 0.0
    samples: int = 0
    estimated: bool = False
    derived: bool = False
    has_grid: bool = False
    has_production: bool = False
    has_load: bool = False
    closed: bool = False

    def add(self, name: str, amount: float) -> None:
        setattr(self, name, getattr(self, name) + amount)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> _Hour:
        return cls(**{k: v for k, v in raw.items() if k in cls.__slots__})


@dataclass(slots=True)
class _Counter:
    value: float
    at: datetime
    candidate: float | None = None
    candidate_at: datetime | None = None


@dataclass(slots=True)
class _Power:
    watts: float
    at: datetime


@dataclass(slots=True)
class SiteAccountant:
    """Hourly accounting of one site. Feed :meth:`add_sample` at every poll."""

    time_zone: tzinfo
    max_gap: timedelta = DEFAULT_MAX_GAP
    close_grace: timedelta = DEFAULT_MAX_GAP
    max_power_w: float = MAX_PLAUSIBLE_POWER_W
    min_plausible_step_wh: float = MIN_PLAUSIBLE_STEP_WH
    _counters: dict[str, _Counter] = field(default_factory=dict)
    _power: dict[str, _Power] = field(default_factory=dict)
    _net: _Power | None = None
    _hours: dict[datetime, _Hour] = field(default_factory=dict)
    _started: datetime | None = None
    _last_sample: datetime | None = None
    _anomalies: list[CounterAnomaly] = field(default_factory=list)
    _roles: dict[str, DeviceRole] = field(default_factory=dict)
    """The role of each device ever seen (for devices absent from a poll)."""
    _forgotten_until: datetime | None = None
    """The newest closed hour dropped from memory: older hours cannot be revised."""

    # ---------------------------------------------------------------- time
    def hour_start_of(self, moment: datetime) -> datetime:
        """Start (UTC) of the local hour that contains ``moment`` (aware)."""
        utc = moment.astimezone(UTC)
        local = utc.astimezone(self.time_zone)
        return utc - timedelta(
            minutes=local.minute, seconds=local.second, microseconds=local.microsecond
        )

    def local(self, hour_start_utc: datetime) -> datetime:
        """An hour start in the local time zone, as it goes on the wire."""
        return hour_start_utc.astimezone(self.time_zone)

    # ---------------------------------------------------------------- feeding
    def add_sample(self, ts: datetime, devices: Iterable[DeviceSample]) -> list[HourReading]:
        """Account one poll; return the hours closed (or revised) by it, oldest first.

        ``ts`` is the poll's time (aware). Devices that did not answer are left out.
        A poll older than the previous one is ignored.
        """
        ts = ts.astimezone(UTC)
        if self._last_sample is not None and ts < self._last_sample:
            return []
        devices = list(devices)
        revised: set[datetime] = set()
        for device in devices:
            self._roles[device.device_id] = device.role
        if self._started is None:
            self._started = ts
            if ts > self.hour_start_of(ts):
                # the part of this hour before the first poll is unknown
                self._hour(self.hour_start_of(ts)).estimated = True
        hour = self._hour(self.hour_start_of(ts))
        hour.samples += 1
        for device in devices:
            self._add_device(ts, device, revised)
        if devices and not self._has_grid_meter(ts):
            self._add_derived(ts, devices, revised)
        self._last_sample = ts
        closed = self._close_due(ts)
        emitted = sorted(
            set(closed) | {h for h in revised if h in self._hours and self._hours[h].closed}
        )
        readings = [self._reading(h) for h in emitted]
        self._forget_old()
        return readings

    def _add_device(self, ts: datetime, device: DeviceSample, revised: set[datetime]) -> None:
        # values that are not finite numbers (an entity source's "nan") count as missing
        values = {
            quantity: value
            for quantity, value in device.values.items()
            if isinstance(value, int | float) and math.isfinite(value)
        }
        power = values.get(Quantity.ACTIVE_POWER)
        previous_power = self._power.get(device.device_id)
        if power is not None:
            self._power[device.device_id] = _Power(float(power), ts)
        counters = [
            (quantity, name)
            for (role, quantity), name in _FIELD_OF_COUNTER.items()
            if role is device.role and values.get(quantity) is not None
        ]
        if device.role is DeviceRole.PRODUCTION and len(counters) > 1:
            counters = [(Quantity.ENERGY_PRODUCED, "produced")]
        for quantity, name in counters:
            value = float(values[quantity])
            self._add_counter(
                ts,
                device,
                quantity,
                name=name,
                value=value,
                previous_power=previous_power,
                power=power,
                revised=revised,
            )
        hour = self._hour(self.hour_start_of(ts))
        if device.role is DeviceRole.GRID:
            hour.has_grid = True
        elif device.role is DeviceRole.PRODUCTION:
            hour.has_production = True
        else:
            hour.has_load = True

    def _has_grid_meter(self, ts: datetime) -> bool:
        """Whether the site has a grid meter (one answered in the last two weeks).

        A grid meter that is briefly unreachable does not switch the site to derived
        figures: its counters cover the gap when it answers again.
        """
        for key, counter in self._counters.items():
            device_id = key.rsplit("|", 1)[0]
            if self._roles.get(device_id) is DeviceRole.GRID and ts - counter.at <= GRID_MEMORY:
                return True
        return False

    def _grid_meter_known(self, now: datetime) -> bool:
        """Whether the site has a grid meter: its counters or its power were read within
        ``GRID_MEMORY`` (a meter silent for longer is taken as removed)."""
        if self._has_grid_meter(now):
            return True
        return any(
            self._roles.get(device_id) is DeviceRole.GRID and now - power.at <= GRID_MEMORY
            for device_id, power in self._power.items()
        )

    def _plausible(self, delta: float, seconds: float) -> bool:
        limit = max(self.min_plausible_step_wh, self.max_power_w * max(seconds, 0.0) / 3600)
        return 0 <= delta <= limit

    def _add_counter(
        self,
        ts: datetime,
        device: DeviceSample,
        quantity: Quantity,
        *,
        name: str,
        value: float,
        previous_power: _Power | None,
        power: float | int | None,
        revised: set[datetime],
    ) -> None:
        key = f"{device.device_id}|{quantity}"
        counter = self._counters.get(key)
        if counter is None:
            self._counters[key] = _Counter(value, ts)
            if self._started is not None and ts > self._started:
                # a device added later: its energy before now in this hour is unknown
                self._hour(self.hour_start_of(ts)).estimated = True
            return
        seconds = (ts - counter.at).total_seconds()
        delta = value - counter.value
        if self._plausible(delta, seconds):
            counter.candidate = counter.candidate_at = None
            self._spread_counter(
                counter.at,
                ts,
                name=name,
                delta=delta,
                previous_power=previous_power,
                revised=revised,
            )
            counter.value, counter.at = value, ts
            return
        if counter.candidate is not None and counter.candidate_at is not None:
            since = (ts - counter.candidate_at).total_seconds()
            if self._plausible(value - counter.candidate, since):
                # the counter was reset (or the meter replaced): the energy between the last
                # good value and the new base is estimated from the device's power
                watts = _directed(device.role, quantity, previous_power, power)
                hours = (counter.candidate_at - counter.at).total_seconds() / 3600
                self._spread(
                    counter.at,
                    counter.candidate_at,
                    name,
                    watts * hours,
                    estimated=True,
                    revised=revised,
                    counter=True,
                )
                self._spread_counter(
                    counter.candidate_at,
                    ts,
                    name=name,
                    delta=value - counter.candidate,
                    previous_power=None,
                    revised=revised,
                )
                counter.value, counter.at = value, ts
                counter.candidate = counter.candidate_at = None
                return
        # hold the odd value back; the hours since the last good value are estimated
        self._anomalies.append(
            CounterAnomaly(
                device.device_id,
                quantity,
                "backwards" if delta < 0 else "jump",
                counter.value,
                value,
                ts,
            )
        )
        counter.candidate, counter.candidate_at = value, ts
        for start in self._hours_between(counter.at, ts):
            self._hour(start).estimated = True
            revised.add(start)

    def _spread_counter(
        self,
        start: datetime,
        end: datetime,
        *,
        name: str,
        delta: float,
        previous_power: _Power | None,
        revised: set[datetime],
    ) -> None:
        if end - start <= self.max_gap:
            self._spread(start, end, name, delta, estimated=False, revised=revised, counter=True)
        elif delta <= 0:
            # a counter that did not move across a gap: nothing is uncertain
            self._spread(start, end, name, 0.0, estimated=False, revised=revised, counter=True)
        elif (
            previous_power is not None
            and abs(previous_power.watts) < IDLE_POWER_W
            and delta <= SLEEP_SLACK_WH
        ):
            # idle before the gap (an inverter asleep) and a trickle since it woke up:
            # the energy belongs to the end of the gap
            self._spread(
                end - self.max_gap, end, name, delta, estimated=False, revised=revised, counter=True
            )
        else:
            self._spread(start, end, name, delta, estimated=True, revised=revised, counter=True)

    def _add_derived(
        self, ts: datetime, devices: Sequence[DeviceSample], revised: set[datetime]
    ) -> None:
        """No grid meter: integrate (production - load) power, each sign on its own."""
        net = 0.0
        for device_id, power in self._power.items():
            if ts - power.at > self.max_gap:
                continue  # silent longer than a gap (asleep): no power
            role = self._roles.get(device_id)
            if role is DeviceRole.PRODUCTION:
                net += max(power.watts, 0.0)
            elif role is DeviceRole.LOAD:
                net -= max(power.watts, 0.0)
        hour = self._hour(self.hour_start_of(ts))
        hour.derived = True
        previous = self._net
        self._net = _Power(net, ts)
        if previous is None:
            return
        seconds = (ts - previous.at).total_seconds()
        if seconds <= 0:
            return
        injected = _positive_area(previous.watts, net, seconds) / 3600
        withdrawn = _positive_area(-previous.watts, -net, seconds) / 3600
        gap = ts - previous.at > self.max_gap and (injected > 0 or withdrawn > 0)
        self._spread(previous.at, ts, "injected", injected, estimated=gap, revised=revised)
        self._spread(previous.at, ts, "withdrawn", withdrawn, estimated=gap, revised=revised)
        for start in self._hours_between(previous.at, ts):
            self._hour(start).derived = True

    # ---------------------------------------------------------------- hours
    def _hour(self, start: datetime) -> _Hour:
        hour = self._hours.get(start)
        if hour is None:
            hour = self._hours[start] = _Hour()
        return hour

    def _hours_between(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """Starts of the hours that [start, end) overlaps (the hour of ``start`` at least)."""
        hour = self.hour_start_of(start)
        last = self.hour_start_of(end)
        if last == end and end > start:
            last -= HOUR  # ends exactly on a boundary: the next hour is not touched
        while hour <= last:
            yield hour
            hour += HOUR

    def _spread(
        self,
        start: datetime,
        end: datetime,
        name: str,
        amount: float,
        *,
        estimated: bool,
        revised: set[datetime],
        counter: bool = False,
    ) -> None:
        """Share ``amount`` of figure ``name`` over [start, end] in proportion to time.

        ``counter``: the amount comes from a device's counter (which marks the figure as
        known in the hours it reaches, even those without a poll).
        """
        total = (end - start).total_seconds()
        if total <= 0:
            shares = [(self.hour_start_of(end), 1.0)]
        else:
            shares = []
            for begin in self._hours_between(start, end):
                overlap = (min(end, begin + HOUR) - max(start, begin)).total_seconds()
                if overlap > 0:
                    shares.append((begin, overlap / total))
        for hour_start, share in shares:
            hour = self._hours.get(hour_start)
            if hour is None:
                if self._forgotten_until is not None and hour_start <= self._forgotten_until:
                    continue  # closed and forgotten long ago: cannot be revised any more
                hour = self._hour(hour_start)
            if amount:
                hour.add(name, amount * share)
            if counter:
                setattr(hour, _FLAG_OF_FIELD[name], True)
            if estimated and (amount or not hour.estimated):
                hour.estimated = True
            if hour.closed and (amount * share or estimated):
                revised.add(hour_start)

    def _close_due(self, ts: datetime) -> list[datetime]:
        current = self.hour_start_of(ts)
        closed: list[datetime] = []
        for start in sorted(self._hours):
            hour = self._hours[start]
            if hour.closed or start >= current:
                continue
            end = start + HOUR
            if ts < end + self.close_grace and self._waiting_for(end):
                continue
            hour.closed = True
            closed.append(start)
        return closed

    def _waiting_for(self, end: datetime) -> bool:
        """Whether a counter that was answering before ``end`` has not been polled past it."""
        return any(end - self.max_gap <= c.at < end for c in self._counters.values())

    def _forget_old(self) -> None:
        """Drop closed hours nothing can revise any more (every source polled after them)."""
        closed = sorted(h for h, hour in self._hours.items() if hour.closed)
        bases = [c.at for c in self._counters.values()]
        if self._net is not None:
            bases.append(self._net.at)
        oldest = min(bases, default=self._last_sample)
        drop = set(closed[: max(0, len(closed) - CLOSED_HOURS_KEPT)])
        if oldest is not None:
            drop.update(h for h in closed if h + HOUR + self.max_gap <= oldest)
        for start in drop:
            del self._hours[start]
        if drop:
            newest = max(drop)
            if self._forgotten_until is None or newest > self._forgotten_until:
                self._forgotten_until = newest

    def _reading(self, start: datetime) -> HourReading:
        hour = self._hours[start]
        quality: Quality = (
            "estimated" if hour.estimated else "derived" if hour.derived else "measured"
        )
        return HourReading(
            hour_start=self.local(start),
            injected_wh=round(hour.injected),
            withdrawn_wh=round(hour.withdrawn),
            produced_wh=round(hour.produced) if hour.has_production else None,
            consumed_wh=_consumed(hour),
            quality=quality,
            samples=hour.samples,
        )

    # ---------------------------------------------------------------- reading out
    def pop_anomalies(self) -> list[CounterAnomaly]:
        """Counter values held back since the last call (to log and raise once)."""
        anomalies, self._anomalies = self._anomalies, []
        return anomalies

    @property
    def last_sample(self) -> datetime | None:
        """Time (UTC) of the last poll accounted."""
        return self._last_sample

    def hour_so_far(self, now: datetime) -> HourFigures:
        """The hour that contains ``now``, as accounted up to the last poll."""
        start = self.hour_start_of(now)
        hour = self._hours.get(start) or _Hour()
        consumed = _consumed(hour)
        quality: Quality = (
            "estimated" if hour.estimated else "derived" if hour.derived else "measured"
        )
        return HourFigures(
            hour_start=self.local(start),
            injected_wh=hour.injected,
            withdrawn_wh=hour.withdrawn,
            produced_wh=hour.produced if hour.has_production else None,
            consumed_wh=None if consumed is None else float(consumed),
            quality=quality,
            samples=hour.samples,
            **self._power_now(now.astimezone(UTC)),
        )

    def _power_now(self, now: datetime) -> dict[str, float | None]:
        """Injection and withdrawal power now (and production and load).

        Rule (issue #14 item 12): a site **with a grid meter** has its exchange from that
        meter only, read in the last poll; while the meter does not answer the exchange is
        unknown, never its last value held for minutes nor production − load of the other
        devices (594.9 W shown while 3,055 W were exchanged). Sites without a grid meter
        derive it from production and load powers read within ``max_gap``.
        """
        fresh = {
            device_id: power
            for device_id, power in self._power.items()
            if now - power.at <= self.max_gap
        }
        grid = [
            p.watts
            for d, p in fresh.items()
            if self._roles.get(d) is DeviceRole.GRID and p.at == self._last_sample
        ]
        production = [
            p.watts for d, p in fresh.items() if self._roles.get(d) is DeviceRole.PRODUCTION
        ]
        load = [p.watts for d, p in fresh.items() if self._roles.get(d) is DeviceRole.LOAD]
        production_w = sum(max(w, 0.0) for w in production) if production else None
        load_w = sum(max(w, 0.0) for w in load) if load else None
        if grid:
            exchange = sum(grid)  # withdrawal positive
        elif self._grid_meter_known(now):
            return {
                "injection_w": None,
                "withdrawal_w": None,
                "production_w": production_w,
                "load_w": load_w,
            }
        elif production_w is not None or load_w is not None:
            exchange = (load_w or 0.0) - (production_w or 0.0)
        else:
            return {
                "injection_w": None,
                "withdrawal_w": None,
                "production_w": production_w,
                "load_w": load_w,
            }
        return {
            "injection_w": max(-exchange, 0.0),
            "withdrawal_w": max(exchange, 0.0),
            "production_w": production_w,
            "load_w": load_w,
        }

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """The state as JSON-friendly data, to persist across restarts."""
        return {
            "version": STATE_VERSION,
            "started": _iso(self._started),
            "last_sample": _iso(self._last_sample),
            "counters": {
                key: {
                    "value": c.value,
                    "at": c.at.isoformat(),
                    "candidate": c.candidate,
                    "candidate_at": _iso(c.candidate_at),
                }
                for key, c in self._counters.items()
            },
            "power": {
                key: {"watts": p.watts, "at": p.at.isoformat()} for key, p in self._power.items()
            },
            "net": None
            if self._net is None
            else {"watts": self._net.watts, "at": self._net.at.isoformat()},
            "roles": {key: str(role) for key, role in self._roles.items()},
            "forgotten_until": _iso(self._forgotten_until),
            "hours": {start.isoformat(): hour.as_dict() for start, hour in self._hours.items()},
        }

    def load_dict(self, raw: Mapping[str, Any]) -> None:
        """Restore the state saved by :meth:`to_dict` (unknown versions are ignored)."""
        if not raw or raw.get("version") != STATE_VERSION:
            return
        self._started = _parse(raw.get("started"))
        self._last_sample = _parse(raw.get("last_sample"))
        self._counters = {
            key: _Counter(
                float(c["value"]),
                datetime.fromisoformat(c["at"]),
                c.get("candidate"),
                _parse(c.get("candidate_at")),
            )
            for key, c in raw.get("counters", {}).items()
        }
        self._power = {
            key: _Power(float(p["watts"]), datetime.fromisoformat(p["at"]))
            for key, p in raw.get("power", {}).items()
        }
        net = raw.get("net")
        self._net = None if not net else _Power(float(net["watts"]), _at(net["at"]))
        self._roles = {key: DeviceRole(role) for key, role in raw.get("roles", {}).items()}
        self._forgotten_until = _parse(raw.get("forgotten_until"))
        self._hours = {
            datetime.fromisoformat(start): _Hour.from_dict(hour)
            for start, hour in raw.get("hours", {}).items()
        }


def _consumed(hour: _Hour) -> int | None:
    """Consumption of the building: the energy balance at the POD when it is metered."""
    if hour.has_grid:
        return max(0, round(hour.produced + hour.withdrawn - hour.injected))
    if hour.has_load:
        return round(hour.load)
    return None


def _directed(
    role: DeviceRole,
    quantity: Quantity,
    previous: _Power | None,
    power: float | int | None,
) -> float:
    """Mean power (W, >= 0) in the direction a counter counts, from the powers known."""
    values = [p for p in (previous.watts if previous else None, power) if p is not None]
    if not values:
        return 0.0
    sign = -1.0 if (role is DeviceRole.GRID and quantity is Quantity.ENERGY_EXPORTED) else 1.0
    return sum(max(sign * float(v), 0.0) for v in values) / len(values)


def _positive_area(p0: float, p1: float, seconds: float) -> float:
    """Integral over ``seconds`` of the positive part of a power going linearly p0 -> p1."""
    if p0 >= 0 and p1 >= 0:
        return (p0 + p1) / 2 * seconds
    if p0 <= 0 and p1 <= 0:
        return 0.0
    # crosses zero: only the triangle on the positive side counts
    positive, negative = (p0, p1) if p0 > 0 else (p1, p0)
    fraction = positive / (positive - negative)
    return positive / 2 * seconds * fraction


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse(value: str | None) -> datetime | None:
    return None if not value else datetime.fromisoformat(value)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)
