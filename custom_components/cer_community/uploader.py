"""A site's hourly pipeline: accounting -> persistent buffer -> backend, and live figures.

:class:`SiteUploader` is the one object a site entry needs::

    uploader = await SiteUploader.async_create(hass, entry, pod=pod, api=client_or_none)
    uploader.async_start()                  # timers: uploads, live every minute
    uploader.record(now, device_samples)    # at every poll (the coordinators)
    uploader.hour_so_far()                  # site sensors (hour-so-far, power now)
    uploader.status                         # upload health sensors
    uploader.community                      # community live figures from the backend
    await uploader.upload_now()             # the cer_community.upload_now action
    await uploader.async_stop()             # entry unload: every timer and task cancelled

Upload behaviour: when hours close they are buffered and an upload is scheduled after a
random delay (``jitter``, 30-300 s, so the buildings of a community do not all call at the
same second); batches of at most 744 hours go oldest first; on failure the next attempt
waits exponentially longer (1 min doubling up to 1 h), so after an outage of a week every
hour arrives once and in order. A 401/403 stops uploads and starts the reauth flow.

A poison batch never stalls the uploads: when the backend refuses a whole batch (a 4xx other
than 401, 403 and 413, or a 5xx several times for the same batch while its health is ok), the
batch is halved again and again until the reading(s) at fault are isolated; those are set
aside (with the buffer's repair issue) and the rest is sent.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.event import (
    async_call_later,
    async_track_time_change,
    async_track_time_interval,
)
from homeassistant.util import dt as dt_util

from .accounting import (
    DEFAULT_MAX_GAP,
    CounterAnomaly,
    DeviceSample,
    HourFigures,
    HourReading,
    SiteAccountant,
)
from .api import (
    MAX_READINGS_PER_REQUEST,
    CerApiAuthError,
    CerApiClient,
    CerApiConnectionError,
    CerApiError,
    CommunityLive,
    LiveReading,
)
from .buffer import ReadingBuffer
from .const import DOMAIN, LOGGER
from .listeners import Listeners
from .local_community import async_get_local_community

DEFAULT_JITTER_S = (30.0, 300.0)
DEFAULT_BACKOFF_S = (60.0, 3600.0)
LIVE_INTERVAL = timedelta(minutes=1)
STATE_SAVE_DELAY_S = 60.0
ISSUE_REFUSED = "upload_refused"
SETTLEMENT_TIME_ZONE = ZoneInfo("Europe/Rome")
"""The GSE settles Italian hours, whatever time zone Home Assistant runs in."""
FRESH_REFUSAL = timedelta(hours=2)
"""A reading refused this soon after its hour is retried once, an hour later (clock skew)."""
POISON_SERVER_ERRORS = 3
"""After this many 5xx answers to the same batch while the backend's health is ok, the batch
is taken apart to find the reading(s) the backend cannot take (issue #12)."""


def _about_the_request(err: CerApiError) -> bool:
    """A refusal no reading is at fault for: the body's size (413) or the POD itself (unknown
    to the community: 404, or a problem naming the ``pod`` field). Taking the batch apart
    would not help; it is retried with backoff under the upload_refused repair issue."""
    return err.status in (404, 413) or any(e.get("field") == "pod" for e in err.errors)


@dataclass(frozen=True, slots=True)
class UploadStatus:
    """Health of a site's uploads, for sensors and diagnostics."""

    pending_hours: int
    rejected_hours: int
    last_success: datetime | None
    """When the backend last acknowledged an upload (survives restarts)."""
    last_attempt: datetime | None
    last_error: str | None
    """Why the last attempt failed (``None`` after a success)."""
    failures: int
    """Consecutive failed attempts."""
    next_attempt: datetime | None
    oldest_pending: datetime | None
    auth_failed: bool
    """The backend refused the token: waiting for reauthentication."""
    dropped_hours: int


class SiteUploader:
    """Hourly accounting, buffer, upload and live figures of one site entry."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        accountant: SiteAccountant,
        buffer: ReadingBuffer,
        api: CerApiClient | None,
        jitter_s: tuple[float, float] = DEFAULT_JITTER_S,
        backoff_s: tuple[float, float] = DEFAULT_BACKOFF_S,
        live_interval: timedelta | None = LIVE_INTERVAL,
        rng: random.Random | None = None,
    ) -> None:
        self.hass = hass
        self.entry = entry
        self.accountant = accountant
        self.buffer = buffer
        self.api = api
        self.pod = buffer.pod
        self._jitter = jitter_s
        self._backoff = backoff_s
        self._live_interval = live_interval
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()
        self._unsubs: list[CALLBACK_TYPE] = []
        self._timer: CALLBACK_TYPE | None = None
        self._next_attempt: datetime | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._live_task: asyncio.Task[Any] | None = None
        self._listeners = Listeners()
        self._failures = 0
        self._last_attempt: datetime | None = None
        self._last_error: str | None = None
        self._auth_failed = False
        self._started = False
        self._server_error_batch: str | None = None
        self._server_errors = 0
        self.community: CommunityLive | None = None
        """The community's live figures of the last ``/live`` answer."""
        self.community_updated: datetime | None = None
        self.live_error: str | None = None
        self.unavailable_devices: tuple[str, ...] = ()
        """The site's devices that did not answer at the last poll (the site coordinator
        sets them; sent with the live figures so the backend can raise ``site_silent``)."""
        self.counter_anomalies: dict[str, CounterAnomaly] = {}
        """The last value held back of each counter (``device_id|quantity``), for diagnostics."""
        buffer.state_provider = accountant.to_dict

    @classmethod
    async def async_create(
        cls,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        pod: str,
        api: CerApiClient | None,
        max_gap: timedelta = DEFAULT_MAX_GAP,
        **kwargs: object,
    ) -> SiteUploader:
        """Build the pipeline of a site entry and load its stored state."""
        accountant = SiteAccountant(SETTLEMENT_TIME_ZONE, max_gap=max_gap, close_grace=max_gap)
        buffer = ReadingBuffer(hass, entry.entry_id, pod)
        accountant.load_dict(await buffer.async_load())
        return cls(hass, entry, accountant=accountant, buffer=buffer, api=api, **kwargs)  # type: ignore[arg-type]

    # ---------------------------------------------------------------- lifecycle
    @callback
    def async_start(self) -> None:
        """Start the timers; upload what is waiting (after jitter)."""
        if self._started:
            return
        self._started = True
        self._unsubs.append(
            async_get_local_community(self.hass).register(self.entry.entry_id, self.hour_so_far)
        )
        if self.api is None:
            return
        self._unsubs.append(async_track_time_change(self.hass, self._on_hour, minute=0, second=0))
        if self._live_interval is not None:
            self._unsubs.append(
                async_track_time_interval(self.hass, self._on_live_tick, self._live_interval)
            )
        if self.buffer.pending_count:
            self._schedule(self._jitter_delay())

    async def async_stop(self) -> None:
        """Cancel every timer and task, and write the state (entry unload)."""
        self._started = False
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        self._cancel_timer()
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
        await self.buffer.async_save()

    async def async_wait_idle(self) -> None:
        """Wait until no upload or live request is on the way (tests, the action)."""
        while tasks := [t for t in self._tasks if not t.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)

    # ---------------------------------------------------------------- accounting
    @callback
    def record(self, ts: datetime, devices: Iterable[DeviceSample]) -> list[HourReading]:
        """Account one poll of the site's devices; buffer and schedule the hours it closed.

        Call it from the coordinators at every poll with the devices that answered
        (``DeviceSample(device_id, role, reading)``). Answers the hours closed or revised.
        """
        closed = self.accountant.add_sample(ts, devices)
        for anomaly in self.accountant.pop_anomalies():
            key = f"{anomaly.device_id}|{anomaly.quantity}"
            if key not in self.counter_anomalies:
                LOGGER.warning(
                    "%s: counter %s of device %s went %s (%s Wh after %s Wh): "
                    "held back, the hour is estimated",
                    self.pod,
                    anomaly.quantity,
                    anomaly.device_id,
                    "backwards" if anomaly.kind == "backwards" else "up implausibly",
                    anomaly.value_wh,
                    anomaly.previous_wh,
                )
            self.counter_anomalies[key] = anomaly
        if closed and self.buffer.add(closed):
            if self._timer is None and self._started and self._can_upload:
                self._schedule(self._jitter_delay())
        else:
            self.buffer.async_schedule_save(STATE_SAVE_DELAY_S)
        self._notify()
        return closed

    def hour_so_far(self, now: datetime | None = None) -> HourFigures:
        """This hour so far and the power now (site sensors)."""
        return self.accountant.hour_so_far(now or dt_util.utcnow())

    # ---------------------------------------------------------------- status
    @property
    def status(self) -> UploadStatus:
        """Health of the uploads."""
        last = self.buffer.extra.get("last_success")
        return UploadStatus(
            pending_hours=self.buffer.pending_count,
            rejected_hours=len(self.buffer.rejected),
            last_success=datetime.fromisoformat(last) if last else None,
            last_attempt=self._last_attempt,
            last_error=self._last_error,
            failures=self._failures,
            next_attempt=self._next_attempt,
            oldest_pending=self.buffer.oldest_pending(),
            auth_failed=self._auth_failed,
            dropped_hours=self.buffer.dropped,
        )

    @callback
    def async_add_listener(self, update: Callable[[], None]) -> Callable[[], None]:
        """Call ``update`` when figures or status change; answers the unsubscribe."""
        return self._listeners.add(update)

    @callback
    def _notify(self) -> None:
        self._listeners.notify()
        async_get_local_community(self.hass).async_notify()

    # ---------------------------------------------------------------- scheduling
    @property
    def _can_upload(self) -> bool:
        return self.api is not None and not self._auth_failed

    def _jitter_delay(self) -> float:
        low, high = self._jitter
        return self._rng.uniform(low, high)

    def _backoff_delay(self) -> float:
        base, cap = self._backoff
        delay: float = min(cap, base * 2.0 ** min(30, max(0, self._failures - 1)))
        return min(cap, delay * self._rng.uniform(0.9, 1.1))

    @callback
    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer()
            self._timer = None
        self._next_attempt = None

    @callback
    def _schedule(self, delay: float) -> None:
        self._cancel_timer()
        self._next_attempt = dt_util.utcnow() + timedelta(seconds=delay)
        self._timer = async_call_later(
            self.hass, delay, HassJob(self._on_timer, cancel_on_shutdown=True)
        )

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        self._next_attempt = None
        self._spawn(self._async_upload_safely(), "upload")

    @callback
    def _on_hour(self, _now: datetime) -> None:
        """Each hour: retry fresh refusals once, and give anything waiting a slot."""
        self.buffer.requeue_rejected(fresh_within=FRESH_REFUSAL)
        if self._timer is None and self.buffer.pending_count and self._can_upload:
            self._schedule(self._jitter_delay())

    @callback
    def _spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        task = self.entry.async_create_background_task(
            self.hass, coro, f"{DOMAIN} {what} {self.pod}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ---------------------------------------------------------------- upload
    async def upload_now(self) -> UploadStatus:
        """Upload everything waiting now, refused readings included (the action).

        Raises :class:`HomeAssistantError` (translated) when there is no backend or the
        upload failed; the hours stay in the buffer either way.
        """
        if self.api is None:
            raise HomeAssistantError(translation_domain=DOMAIN, translation_key="upload_no_backend")
        self.buffer.requeue_rejected()
        self._cancel_timer()
        self._auth_failed = False
        error = await self._async_upload()
        if error is not None:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="upload_failed",
                translation_placeholders={"error": error},
            )
        return self.status

    async def _async_upload_safely(self) -> None:
        await self._async_upload()

    async def _async_upload(self) -> str | None:
        """Send every waiting hour, oldest first; answer the error, if any."""
        api = self.api
        if api is None:
            return None
        async with self._lock:
            error: str | None = None
            try:
                while batch := self.buffer.pending(MAX_READINGS_PER_REQUEST):
                    self._last_attempt = dt_util.utcnow()
                    before = (self.buffer.pending_count, len(self.buffer.rejected))
                    isolate_5xx = await self._poison_suspected(api, batch)
                    try:
                        await self._send_isolating(api, batch, isolate_5xx=isolate_5xx)
                    except CerApiConnectionError as err:
                        self._count_server_error(batch, err)
                        raise
                    self._server_error_batch, self._server_errors = None, 0
                    if (self.buffer.pending_count, len(self.buffer.rejected)) == before:
                        break  # every hour was revised on the way: the next slot sends them
                self._on_success()
            except CerApiAuthError as err:
                error = str(err)
                self._on_auth_error(err)
            except CerApiConnectionError as err:
                error = str(err)
                self._on_failure(err, refused=False)
            except CerApiError as err:
                error = str(err)
                self._on_failure(err, refused=True)
            finally:
                self.buffer.async_schedule_save(1.0)
                self._notify()
            return error

    async def _send_isolating(
        self, api: CerApiClient, batch: list[dict[str, Any]], *, isolate_5xx: bool
    ) -> None:
        """Send a batch; when the backend refuses it whole, halve it until the readings at
        fault are alone, set those aside and send the rest (issue #12: no poison batch)."""
        try:
            result = await api.post_readings(self.pod, batch)
        except CerApiAuthError:
            raise
        except CerApiConnectionError as err:
            if not (isolate_5xx and err.status is not None and err.status >= 500):
                raise
            refusal: CerApiError = err
        except CerApiError as err:
            if _about_the_request(err):
                raise
            refusal = err
        else:
            self._apply_result(batch, result.rejected)
            return
        if len(batch) == 1:
            self._set_aside(batch[0], refusal)
            return
        middle = len(batch) // 2
        for half in (batch[:middle], batch[middle:]):
            await self._send_isolating(api, half, isolate_5xx=isolate_5xx)

    def _apply_result(self, batch: list[dict[str, Any]], refused: Iterable[Any]) -> None:
        """Set aside the readings refused one by one, remove the acknowledged ones."""
        rejected = {r.index: r.message for r in refused}
        now = dt_util.utcnow()
        for index, message in rejected.items():
            if 0 <= index < len(batch):
                LOGGER.warning(
                    "The backend refused the reading of %s for %s: %s",
                    self.pod,
                    batch[index]["hour_start"],
                    message,
                )
                self.buffer.reject(batch[index], message, now)
        self.buffer.acknowledge(raw for i, raw in enumerate(batch) if i not in rejected)
        self.buffer.extra["last_success"] = now.isoformat()

    def _set_aside(self, raw: dict[str, Any], err: CerApiError) -> None:
        """A reading the backend refuses in any batch: kept aside, with the repair issue."""
        message = str(err)
        LOGGER.warning(
            "The backend refuses every batch with the reading of %s for %s (%s): set aside",
            self.pod,
            raw["hour_start"],
            message,
        )
        self.buffer.reject(raw, message, dt_util.utcnow())

    def _count_server_error(self, batch: list[dict[str, Any]], err: CerApiConnectionError) -> None:
        """Count the 5xx answers to the same batch (a connection error does not count)."""
        if err.status is None or err.status < 500:
            return
        first = str(batch[0]["hour_start"])
        if self._server_error_batch == first:
            self._server_errors += 1
        else:
            self._server_error_batch, self._server_errors = first, 1

    async def _poison_suspected(self, api: CerApiClient, batch: list[dict[str, Any]]) -> bool:
        """Whether this batch met 5xx several times while the backend says it is healthy."""
        if (
            self._server_error_batch != str(batch[0]["hour_start"])
            or self._server_errors < POISON_SERVER_ERRORS
        ):
            return False
        return await api.async_healthy()

    @callback
    def _on_success(self) -> None:
        if self._failures:
            LOGGER.info("Uploads of %s work again", self.pod)
        self._failures = 0
        self._last_error = None
        ir.async_delete_issue(self.hass, DOMAIN, self._refused_issue_id)
        if self.buffer.pending_count and self._started:
            # revised while uploading: send the new values a little later
            self._schedule(self._jitter_delay())

    @callback
    def _on_failure(self, err: CerApiError, *, refused: bool) -> None:
        self._failures += 1
        self._last_error = str(err)
        log = LOGGER.warning if self._failures == 1 else LOGGER.debug
        log("Upload of %s failed (attempt %d): %s", self.pod, self._failures, err)
        if refused:
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self._refused_issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.ERROR,
                translation_key="upload_refused",
                translation_placeholders={
                    "pod": self.pod,
                    "status": str(err.status),
                    "message": err.detail or err.title or str(err),
                },
            )
        if self._started:
            self._schedule(self._backoff_delay())

    @callback
    def _on_auth_error(self, err: CerApiError) -> None:
        self._last_error = str(err)
        self._cancel_timer()
        if not self._auth_failed:
            self._auth_failed = True
            LOGGER.warning("The backend refused the token of %s: %s", self.pod, err)
            self.entry.async_start_reauth(self.hass)

    @property
    def _refused_issue_id(self) -> str:
        return f"{ISSUE_REFUSED}_{self.entry.entry_id}"

    # ---------------------------------------------------------------- live
    @callback
    def _on_live_tick(self, _now: datetime) -> None:
        if self._can_upload and (self._live_task is None or self._live_task.done()):
            self._live_task = self._spawn(self.async_post_live(), "live")

    async def async_post_live(self) -> CommunityLive | None:
        """Post the site's live figures; keep the community's answer."""
        api = self.api
        now = dt_util.utcnow()
        figures = self.hour_so_far(now)
        if api is None or figures.injection_w is None or figures.withdrawal_w is None:
            return None
        live = LiveReading(
            pod=self.pod,
            ts=now,
            injection_w=figures.injection_w,
            withdrawal_w=figures.withdrawal_w,
            hour_injected_wh=round(figures.injected_wh),
            hour_withdrawn_wh=round(figures.withdrawn_wh),
            unavailable_devices=self.unavailable_devices,
        )
        try:
            self.community = await api.post_live(live)
        except CerApiAuthError as err:
            self.live_error = str(err)
            self._on_auth_error(err)
        except CerApiError as err:
            if self.live_error is None:
                LOGGER.info("Live figures of %s not sent: %s", self.pod, err)
            self.live_error = str(err)
        else:
            self.community_updated = now
            self.live_error = None
        self._notify()
        return self.community
