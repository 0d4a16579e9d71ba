"""Issue #12: the crash test. Two clients stream readings with retries (as the integration
does: the same batch again until it is acknowledged) while ``cer-backend serve`` is killed
with SIGKILL and restarted several times, on SQLite and on PostgreSQL. Afterwards what is
stored is exactly what was sent last: no reading lost, none twice, and one audit row per
replaced reading (a replacement retried after a crash is a duplicate, not a second audit).
"""

from __future__ import annotations

import json
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text

from tests.backend.api.conftest import COMMUNITY_A, POD_FAMILY, POD_PLANT
from tests.backend.conftest import _sync_url
from tests.support.serve import ServedBackend

pytestmark = pytest.mark.database

MIN_DAYS = 8  # batches of one day (24 readings) per POD; they go on until the kills end
REPLACED_EVERY = 4  # every 4th day is sent again with other values
KILLS = 4
FIRST_HOUR = datetime(2025, 1, 1, tzinfo=UTC)
PAUSE = 0.2  # seconds between two uploads of a client (an hourly uploader is slower still)


@dataclass
class Stream:
    """One site's uploads: what it sent last for every hour, and how often it retried."""

    server: ServedBackend
    pod: str
    token: str
    sent: dict[datetime, int] = field(default_factory=dict)
    replaced_hours: set[datetime] = field(default_factory=set)
    retries: int = 0
    error: BaseException | None = None
    stop: threading.Event = field(default_factory=threading.Event)

    def batch(self, day: int, bump: int) -> list[dict[str, Any]]:
        hours = [FIRST_HOUR + timedelta(days=day, hours=h) for h in range(24)]
        items = []
        for hour in hours:
            injected = 1_000 + day * 24 + hour.hour + bump
            items.append(
                {"hour_start": hour.isoformat(), "injected_wh": injected, "withdrawn_wh": 7}
            )
        return items

    def upload(self, items: list[dict[str, Any]]) -> None:
        body = json.dumps({"pod": self.pod, "readings": items}).encode()
        deadline = time.monotonic() + 120
        while True:
            assert time.monotonic() < deadline, "an upload never got through"
            request = urllib.request.Request(
                f"{self.server.api}/readings",
                data=body,
                method="POST",
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as reply:
                    answer = json.loads(reply.read())
            except urllib.error.HTTPError as err:
                assert err.code >= 500, f"{err.code}: {err.read()!r}"  # only outages retry
            except OSError:
                pass  # refused or cut: the server is down
            else:
                assert answer["rejected"] == [], answer
                return
            self.retries += 1
            time.sleep(0.05)

    def run(self) -> None:
        try:
            day = 0
            while day < MIN_DAYS or not self.stop.is_set():
                assert day < 600, "the stream reached the present"
                self.upload(self.batch(day, 0))
                for item in self.batch(day, 0):
                    self.sent[datetime.fromisoformat(item["hour_start"])] = item["injected_wh"]
                if day % REPLACED_EVERY == 0:
                    again = self.batch(day, 1)
                    time.sleep(PAUSE)
                    self.upload(again)
                    for item in again:
                        hour = datetime.fromisoformat(item["hour_start"])
                        self.sent[hour] = item["injected_wh"]
                        self.replaced_hours.add(hour)
                day += 1
                time.sleep(PAUSE)
        except BaseException as err:  # reported by the test
            self.error = err


def test_sigkill_and_restart_while_clients_stream(database_url: str, tmp_path: Path) -> None:
    server = ServedBackend(tmp_path / "data", database_url)
    community_file = tmp_path / "community.json"
    community_file.write_text(json.dumps(COMMUNITY_A))
    community = server.command("community", "import", str(community_file))
    streams = [
        Stream(
            server,
            pod,
            server.command(
                "token", "create", "--role", "site", "--community", community, "--pod", pod
            ),
        )
        for pod in (POD_PLANT, POD_FAMILY)
    ]
    server.start()
    threads = [threading.Thread(target=s.run, daemon=True) for s in streams]
    for thread in threads:
        thread.start()
    kills = 0
    rng = random.Random(12)
    try:
        while kills < KILLS and any(t.is_alive() for t in threads):
            time.sleep(rng.uniform(0.3, 1.2))
            server.kill()
            kills += 1
            server.start()
        for stream in streams:
            stream.stop.set()
        for thread in threads:
            thread.join(timeout=180)
    finally:
        server.stop()
    for stream in streams:
        assert stream.error is None, repr(stream.error)
    assert kills == KILLS
    assert all(stream.retries > 0 for stream in streams)  # the kills did hit the uploads

    engine = create_sync_engine(_sync_url(database_url))
    try:
        with engine.connect() as connection:
            for stream in streams:
                rows = connection.execute(
                    text("SELECT hour_start, injected_wh FROM readings WHERE pod = :pod"),
                    {"pod": stream.pod},
                ).all()
                stored = {_utc(hour): value for hour, value in rows}
                assert len(rows) == len(stored)  # no hour twice
                assert stored == stream.sent  # stored = sent, nothing lost
                audit = connection.execute(
                    text("SELECT hour_start, injected_wh FROM reading_audit WHERE pod = :pod"),
                    {"pod": stream.pod},
                ).all()
                audited = [_utc(hour) for hour, _ in audit]
                assert sorted(audited) == sorted(stream.replaced_hours)  # one row each
                assert all(value == stream.sent[_utc(h)] - 1 for h, value in audit)
    finally:
        engine.dispose()


def _utc(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
