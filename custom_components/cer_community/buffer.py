"""Persistent buffer of a site's closed hours, waiting for the backend to acknowledge them.

One :class:`ReadingBuffer` per site entry, stored with Home Assistant's
:class:`~homeassistant.helpers.storage.Store` (``.storage/cer_community.site.<entry_id>``,
versioned). The same file holds the accounting state of the site, so a closed hour leaves
the accountant and enters the buffer in one write: a restart at any moment loses nothing and
at worst sends an hour twice (the backend takes the repeat as a duplicate).

- Keyed by the hour's start (one POD per buffer): a revised hour replaces the waiting one,
  never a second copy.
- Readings leave only when the backend acknowledged them (accepted, duplicate or replaced),
  and only if they did not change while on the way.
- Readings the backend rejects are kept aside (not retried until a revision or the
  ``upload_now`` action) and raised as a repair issue with the backend's message.
- Bounded: at most :data:`MAX_PENDING_HOURS` waiting hours (100 days of one POD, about
  0.5 MB); beyond that the oldest are dropped with a warning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store

from .accounting import HourReading
from .const import DOMAIN, LOGGER

STORAGE_VERSION = 1
STORAGE_MINOR_VERSION = 1
MAX_PENDING_HOURS = 24 * 100
"""At least 90 days of hours of one POD wait for the backend."""
MAX_REJECTED_HOURS = 24 * 31
SAVE_DELAY_S = 10.0
ISSUE_REJECTED = "upload_rejected"


def storage_key(entry_id: str) -> str:
    """Name of a site entry's file under ``.storage``."""
    return f"{DOMAIN}.site.{entry_id}"


def hour_key(hour_start: datetime | str) -> str:
    """Buffer key of an hour: its start in UTC, ISO 8601 (sorts in time order)."""
    if isinstance(hour_start, str):
        hour_start = datetime.fromisoformat(hour_start)
    return hour_start.astimezone(UTC).isoformat()


@dataclass(frozen=True, slots=True)
class RejectedHour:
    """A reading the backend refused, kept for the user to see."""

    reading: dict[str, Any]
    message: str
    at: datetime


class _SiteStore(Store[dict[str, Any]]):
    """The site file, with migrations of older layouts."""

    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        # version 1 is the first layout: nothing to migrate yet
        return old_data


class ReadingBuffer:
    """The closed hours of one POD waiting for the backend, and the accounting state."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry_id: str,
        pod: str,
        *,
        max_pending: int = MAX_PENDING_HOURS,
    ) -> None:
        self._hass = hass
        self._entry_id = entry_id
        self.pod = pod
        self._max_pending = max_pending
        self._store = _SiteStore(
            hass, STORAGE_VERSION, storage_key(entry_id), minor_version=STORAGE_MINOR_VERSION
        )
        self._pending: dict[str, dict[str, Any]] = {}
        self._rejected: dict[str, RejectedHour] = {}
        self._extra: dict[str, Any] = {}
        self.dropped = 0
        """Hours dropped because the buffer was full (since start)."""
        self._save_due: float | None = None
        self._retried: set[str] = set()
        self.state_provider: Callable[[], dict[str, Any]] | None = None
        """Called at each write for the accounting state to save alongside."""

    # ---------------------------------------------------------------- persistence
    async def async_load(self) -> dict[str, Any]:
        """Load the file; answer the accounting state saved with it (empty at first)."""
        raw = await self._store.async_load() or {}
        if raw.get("pod") not in (None, self.pod):
            LOGGER.warning(
                "Stored hours belong to another POD (%s): they are not sent as %s",
                raw.get("pod"),
                self.pod,
            )
            return {}
        self._pending = {hour_key(k): dict(v) for k, v in raw.get("pending", {}).items()}
        self._rejected = {
            hour_key(k): RejectedHour(
                dict(v["reading"]), str(v.get("message", "")), datetime.fromisoformat(v["at"])
            )
            for k, v in raw.get("rejected", {}).items()
        }
        self._extra = dict(raw.get("extra", {}))
        self._update_issue()
        return dict(raw.get("accounting") or {})

    @callback
    def _data(self) -> dict[str, Any]:
        self._save_due = None
        return {
            "pod": self.pod,
            "pending": dict(sorted(self._pending.items())),
            "rejected": {
                k: {"reading": r.reading, "message": r.message, "at": r.at.isoformat()}
                for k, r in sorted(self._rejected.items())
            },
            "extra": self._extra,
            "accounting": self.state_provider() if self.state_provider else None,
        }

    @callback
    def async_schedule_save(self, delay: float = SAVE_DELAY_S) -> None:
        """Write the file within ``delay`` seconds (writes coalesce; flushed at shutdown).

        A write already due sooner is kept: polls every few seconds must not postpone it
        forever (``Store.async_delay_save`` restarts its delay at each call).
        """
        due = self._hass.loop.time() + delay
        if self._save_due is not None and self._save_due <= due:
            return
        self._save_due = due
        self._store.async_delay_save(self._data, delay)

    async def async_save(self) -> None:
        """Write the file now."""
        await self._store.async_save(self._data())

    async def async_remove(self) -> None:
        """Delete the file (the entry is removed)."""
        await self._store.async_remove()

    # ---------------------------------------------------------------- content
    @callback
    def add(self, readings: Iterable[HourReading]) -> int:
        """Queue closed (or revised) hours; answer how many were new or changed."""
        changed = 0
        for reading in readings:
            raw = reading.as_json()
            key = hour_key(reading.hour_start)
            rejected = self._rejected.get(key)
            if rejected is not None:
                if rejected.reading == raw:
                    continue  # the same values were already refused
                del self._rejected[key]
            if self._pending.get(key) != raw:
                self._pending[key] = raw
                changed += 1
        self._enforce_cap()
        if changed:
            self._update_issue()
            self.async_schedule_save(1.0)
        return changed

    def _enforce_cap(self) -> None:
        excess = len(self._pending) - self._max_pending
        if excess <= 0:
            return
        for key in sorted(self._pending)[:excess]:
            del self._pending[key]
        self.dropped += excess
        LOGGER.warning(
            "Upload buffer of %s full (%d hours): dropped the %d oldest hours",
            self.pod,
            self._max_pending,
            excess,
        )

    @property
    def pending_count(self) -> int:
        """Hours waiting for the backend."""
        return len(self._pending)

    @property
    def rejected(self) -> dict[str, RejectedHour]:
        """Hours the backend refused, by key."""
        return dict(self._rejected)

    @property
    def extra(self) -> dict[str, Any]:
        """Small JSON-friendly values saved with the buffer (upload status)."""
        return self._extra

    def oldest_pending(self) -> datetime | None:
        """Start of the oldest waiting hour."""
        return datetime.fromisoformat(min(self._pending)) if self._pending else None

    def pending(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` waiting readings (contract objects), oldest first."""
        return [dict(self._pending[key]) for key in sorted(self._pending)[:limit]]

    @callback
    def acknowledge(self, sent: Iterable[Mapping[str, Any]]) -> int:
        """Remove readings the backend acknowledged, unless they changed meanwhile."""
        removed = 0
        for raw in sent:
            key = hour_key(raw["hour_start"])
            if self._pending.get(key) == raw:
                del self._pending[key]
                removed += 1
        if removed:
            self.async_schedule_save(1.0)
        return removed

    @callback
    def reject(self, raw: Mapping[str, Any], message: str, now: datetime) -> None:
        """Set a refused reading aside and raise the repair issue."""
        key = hour_key(raw["hour_start"])
        if self._pending.get(key) == raw:
            del self._pending[key]
        self._rejected[key] = RejectedHour(dict(raw), message, now)
        for old in sorted(self._rejected)[: max(0, len(self._rejected) - MAX_REJECTED_HOURS)]:
            del self._rejected[old]
        self._update_issue()
        self.async_schedule_save(1.0)

    @callback
    def requeue_rejected(self, *, fresh_within: timedelta | None = None) -> int:
        """Put refused readings back in the queue (the ``upload_now`` action).

        With ``fresh_within``, only readings refused that soon after their hour ended, and
        only once each: a backend whose clock runs behind refuses an hour as "not ended
        yet", which a retry an hour later fixes.
        """
        count = 0
        for key, rejected in list(self._rejected.items()):
            if fresh_within is not None:
                ended = datetime.fromisoformat(key) + timedelta(hours=1)
                if key in self._retried or rejected.at - ended > fresh_within:
                    continue
                self._retried.add(key)
            self._pending.setdefault(key, rejected.reading)
            del self._rejected[key]
            count += 1
        self._enforce_cap()
        self._update_issue()
        if count:
            self.async_schedule_save(1.0)
        return count

    # ---------------------------------------------------------------- repair issue
    @property
    def issue_id(self) -> str:
        """Id of this site's repair issue about refused readings."""
        return f"{ISSUE_REJECTED}_{self._entry_id}"

    @callback
    def _update_issue(self) -> None:
        if not self._rejected:
            ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)
            return
        last_key = max(self._rejected, key=lambda k: (self._rejected[k].at, k))
        last = self._rejected[last_key]
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            self.issue_id,
            is_fixable=False,
            is_persistent=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="upload_rejected",
            translation_placeholders={
                "pod": self.pod,
                "count": str(len(self._rejected)),
                "hour": str(last.reading.get("hour_start")),
                "message": last.message or "-",
            },
        )

    @callback
    def async_clear_issue(self) -> None:
        """Remove the repair issue (the entry is unloaded)."""
        ir.async_delete_issue(self._hass, DOMAIN, self.issue_id)
