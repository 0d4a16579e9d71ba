"""Issue #12, defect 3: a database that cannot be reached or written answers 503 with
Retry-After (never 401 or 500), and the service recovers by itself.

Before the fix: uploads answered 500 with PostgreSQL down and with the SQLite disk full
(``/health`` even said ok then), the token lookup failed with 500, and after a PostgreSQL
restart the first requests on stale pooled connections answered 500.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from cer_backend.api.keys import ENGINE_KEY
from cer_backend.app import create_app
from cer_backend.service.registry import import_community
from cer_backend.service.tokens import create_token
from tests.backend.api.conftest import COMMUNITY_A, POD_PLANT

from .private_pg import PrivatePostgres

RECOVERY_SECONDS = 30


def readings(count: int, first: datetime) -> dict[str, Any]:
    return {
        "pod": POD_PLANT,
        "readings": [
            {
                "hour_start": (first + timedelta(hours=h)).isoformat(),
                "injected_wh": 1000 + h,
                "withdrawn_wh": 10,
            }
            for h in range(count)
        ],
    }


class Client:
    """A real server and a session."""

    def __init__(self, server: TestServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session
        self.tokens: dict[str, str] = {}

    async def call(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.session.request(
            method, self.server.make_url(f"/api/v1{path}"), headers=headers, **kwargs
        ) as response:
            body = await response.json(content_type=None)
            return response.status, body, response.headers


@contextlib.asynccontextmanager
async def serve(url: str, *, prepare: bool = True) -> AsyncIterator[Client]:
    app = create_app(url, migrate=prepare)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            client = Client(server, session)
            if prepare:
                engine = app[ENGINE_KEY]
                community, _ = await import_community(engine, COMMUNITY_A)
                client.tokens["site"] = (
                    await create_token(engine, "site", community, [POD_PLANT])
                )[0]
                client.tokens["admin"] = (await create_token(engine, "admin"))[0]
            yield client
    finally:
        await server.close()


def assert_unavailable(status: int, body: Any, headers: Any) -> None:
    assert status == 503, (status, body)
    assert headers["Content-Type"].startswith("application/problem+json")
    assert int(headers["Retry-After"]) > 0
    assert body["status"] == 503


async def test_an_unreachable_database_answers_503_also_for_the_token_lookup() -> None:
    # nothing listens on port 1 of the loopback
    async with serve("postgresql+psycopg://nobody@127.0.0.1:1/none", prepare=False) as client:
        for method, path in (("GET", "/community/live"), ("GET", "/communities")):
            assert_unavailable(*await client.call(method, path, "cer_some-token"))
        status, body, headers = await client.call(
            "POST", "/readings", "cer_x", json=readings(1, datetime(2025, 6, 1, tzinfo=UTC))
        )
        assert_unavailable(status, body, headers)
        status, body, _ = await client.call("GET", "/health")
        assert status == 503 and body["status"] == "unavailable"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs (needs root; the test is skipped without it)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
            os.fsync(handle.fileno())
    return filler


async def test_a_full_sqlite_disk_answers_503_and_health_says_so(small_disk: Path) -> None:
    url = f"sqlite+aiosqlite:///{small_disk / 'cer.sqlite3'}"
    async with serve(url) as client:
        site = client.tokens["site"]
        status, answer, _ = await client.call(
            "POST", "/readings", site, json=readings(2, datetime(2025, 5, 1, tzinfo=UTC))
        )
        assert status == 200 and answer["accepted"] == 2
        filler = fill(small_disk)
        status, body, headers = await client.call(
            "POST", "/readings", site, json=readings(744, datetime(2025, 6, 1, tzinfo=UTC))
        )
        assert_unavailable(status, body, headers)
        status, body, headers = await client.call("GET", "/health")
        assert status == 503 and body["status"] == "unavailable"
        filler.unlink()
        status, body, _ = await client.call("GET", "/health")
        assert status == 200
        status, answer, _ = await client.call(
            "POST", "/readings", site, json=readings(744, datetime(2025, 6, 1, tzinfo=UTC))
        )
        assert status == 200 and answer["accepted"] == 744


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    try:
        cluster = PrivatePostgres.create()
    except FileNotFoundError as err:
        pytest.skip(str(err))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


async def test_postgresql_down_answers_503_and_recovers_without_a_restart(
    private_postgres: PrivatePostgres,
) -> None:
    async with serve(private_postgres.url) as client:
        site, admin = client.tokens["site"], client.tokens["admin"]
        first = datetime(2025, 6, 1, tzinfo=UTC)

        async def upload(day: int) -> tuple[int, Any, Any]:
            body = readings(24, first + timedelta(days=day))
            return await client.call("POST", "/readings", site, json=body)

        # fill the pool with connections that the outage makes stale
        answers = await asyncio.gather(*(upload(day) for day in range(8)))
        assert [a[0] for a in answers] == [200] * 8
        await asyncio.to_thread(private_postgres.stop)

        assert_unavailable(*await upload(10))
        # a token the server has not seen yet: its lookup meets the outage
        assert_unavailable(*await client.call("GET", "/tokens", "cer_not-seen-before"))
        status, body, _ = await client.call("GET", "/health")
        assert status == 503

        await asyncio.to_thread(private_postgres.start)
        started = time.monotonic()
        while True:
            status, body, _ = await client.call("GET", "/health")
            if status == 200:
                break
            assert time.monotonic() - started < RECOVERY_SECONDS, body
            await asyncio.sleep(0.5)
        # stale pooled connections are replaced: no request fails after the recovery
        answers = await asyncio.gather(*(upload(day) for day in range(20, 30)))
        assert [a[0] for a in answers] == [200] * 10, answers
        status, tokens, _ = await client.call("GET", "/tokens", admin)
        assert status == 200 and len(tokens) == 2
