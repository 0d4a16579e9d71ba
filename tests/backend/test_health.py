"""The health endpoint, on a real server, over SQLite and PostgreSQL."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url

from cer_backend import __version__
from cer_backend.app import create_app
from tests.support.serve import ServedBackend

pytestmark = pytest.mark.database


async def test_health_answers_ok_with_the_database_backend(database_url: str) -> None:
    server = TestServer(create_app(database_url), host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/api/v1/health")) as response,
        ):
            assert response.status == 200
            body = await response.json()
    finally:
        await server.close()
    assert body == {
        "status": "ok",
        "version": __version__,
        "database": make_url(database_url).get_backend_name(),
    }


async def test_health_is_503_when_the_database_is_unreachable() -> None:
    # nothing listens on port 1 of the loopback: the database cannot be reached
    server = TestServer(
        create_app("postgresql+psycopg://nobody:secret@127.0.0.1:1/none"), host="127.0.0.1"
    )
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/api/v1/health")) as response,
        ):
            status = response.status
            body = await response.json()
    finally:
        await server.close()
    assert status == 503
    assert body == {"status": "unavailable", "version": __version__, "database": "postgresql"}


def test_serve_command_answers_health(database_url: str, tmp_path: Path) -> None:
    """What the README's run command does: `cer-backend serve`, then GET /api/v1/health."""
    server = ServedBackend(tmp_path / "data", database_url)
    server.start(timeout=30)
    process = server.process
    assert process is not None
    try:
        with urllib.request.urlopen(f"{server.api}/health") as reply:
            status = reply.status
            payload = reply.read().decode()
        assert status == 200
        assert '"status": "ok"' in payload
    finally:
        server.stop()
    assert process.returncode == 0, "serve must shut down cleanly on SIGTERM"
