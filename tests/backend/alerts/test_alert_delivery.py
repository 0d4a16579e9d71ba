"""Delivery against real servers on 127.0.0.1: an SMTP server (aiosmtpd) for the digest and an
aiohttp receiver for the signed webhook, one of them failing twice before accepting."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import update

from cer_backend.cli import main
from cer_backend.database import create_engine
from cer_backend.models import AlertDigest
from cer_backend.service.alerts.delivery import deliver
from cer_backend.service.alerts.store import check_alerts
from tests.support.net import free_port
from tests.support.smtp import Mailbox, smtp_server

from .builders import AT, HOME, LIGHTS, build, community

pytestmark = pytest.mark.database

SECRET = "s3gr3to-di-prova"
RECIPIENTS = ["ufficio.tecnico@example.it", "sindaco@example.it"]


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        monkeypatch.setenv("CER_SMTP_URL", mailbox.url)
        monkeypatch.setenv("CER_MAIL_FROM", "cer@comune.example.it")
        yield mailbox


def _lights_and_silence(pod: str, local: datetime, injected: int, withdrawn: int) -> Any:
    if pod == LIGHTS and local.date() == AT.date() and 9 <= local.hour < 11:
        return injected, 450
    if pod == HOME and local >= AT - timedelta(hours=5):
        return None
    return injected, withdrawn


def _cli_check(database_url: str, community_id: str, at: datetime) -> str:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(
            [
                "alerts",
                "check",
                "--community",
                community_id,
                "--at",
                at.isoformat(),
                "--json",
                "--database",
                database_url,
            ]
        )
    assert code == 0
    return out.getvalue()


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def test_one_digest_an_hour_per_recipient_without_personal_data(
    database_url: str, smtp: Mailbox
) -> None:
    data = community(report_recipients=RECIPIENTS)
    community_id = build(database_url, _lights_and_silence, data=data)
    _cli_check(database_url, community_id, AT - timedelta(hours=2))  # lights only, by then
    assert sorted(to[0] for to, _ in smtp.messages) == sorted(RECIPIENTS)
    _, first = smtp.messages[0]
    assert first["Subject"] == "[CER Avvisi] 1 nuovi avvisi"
    assert first["From"] == "cer@comune.example.it"
    assert "lighting_daytime" in _body(first)

    # an hour has not passed: the new site_silent alert waits
    _cli_check(database_url, community_id, AT)
    assert len(smtp.messages) == 2

    async def an_hour_later() -> None:
        engine = create_engine(database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(
                    update(AlertDigest).values(sent_at=datetime.now(UTC) - timedelta(minutes=61))
                )
        finally:
            await engine.dispose()

    asyncio.run(an_hour_later())
    _cli_check(database_url, community_id, AT + timedelta(minutes=5))
    assert len(smtp.messages) == 4
    second = next(m for to, m in smtp.messages[2:] if to == [RECIPIENTS[0]])
    body = _body(second)
    assert second["Subject"] == "[CER Avvisi] 1 nuovi avvisi"
    assert "site_silent" in body and "lighting_daytime" not in body  # only what is new
    # the household's POD is masked and no member's name appears
    assert HOME not in body and "Bianchi" not in body and "IT001E…0041" in body


async def test_webhook_signed_and_retried_until_the_receiver_accepts(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    received: list[tuple[int, bytes, str]] = []

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        received.append((len(received) + 1, body, request.headers.get("X-CER-Signature", "")))
        if len(received) <= 2:
            return web.Response(status=503, text="busy")  # fails twice
        return web.json_response({"ok": True})

    receiver = web.Application()
    receiver.router.add_post("/hook", receive)
    server = TestServer(receiver, host="127.0.0.1")
    await server.start_server()
    monkeypatch.setenv("CER_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("CER_SMTP_URL", raising=False)
    try:
        url = str(server.make_url("/hook"))
        data = community(alert_webhook_url=url)
        community_id = await asyncio.to_thread(build, database_url, _lights_and_silence, data)
        engine = create_engine(database_url)
        try:
            evaluation = await check_alerts(engine, community_id, AT - timedelta(hours=2))
            report = await deliver(engine, evaluation, delays=(0.05, 0.1, 0.2))
            assert report["webhook"]["delivered"] == [
                {"id": evaluation.alerts[0]["id"], "attempts": 3}
            ]
            assert len(received) == 3
            assert len({body for _, body, _ in received}) == 1  # the same body each time
            for _, body, signature in received:
                expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                assert signature == f"sha256={expected}"
            payload = json.loads(received[-1][1])
            assert payload["kind"] == "lighting_daytime" and payload["new"] is True
            assert payload["community"] == community_id

            # delivered once: the next evaluation sends only the alert that is new then
            evaluation = await check_alerts(engine, community_id, AT)
            report = await deliver(engine, evaluation, delays=(0.05, 0.1, 0.2))
            assert len(report["webhook"]["delivered"]) == 1 and len(received) == 4
            assert json.loads(received[-1][1])["kind"] == "site_silent"
            assert report["mail"]["errors"] == []  # no recipients: nothing to mail
        finally:
            await engine.dispose()
    finally:
        await server.close()


async def test_a_webhook_that_never_answers_is_retried_at_the_next_evaluation(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CER_WEBHOOK_SECRET", SECRET)
    url = f"http://127.0.0.1:{free_port()}/hook"  # nobody listens
    data = community(alert_webhook_url=url)
    community_id = await asyncio.to_thread(build, database_url, _lights_and_silence, data)
    engine = create_engine(database_url)
    try:
        evaluation = await check_alerts(engine, community_id, AT - timedelta(hours=2))
        report = await deliver(engine, evaluation, delays=(0.01, 0.01))
        assert [f["attempts"] for f in report["webhook"]["failed"]] == [3]
        monkeypatch.delenv("CER_WEBHOOK_SECRET")
        report = await deliver(engine, evaluation, delays=(0.01,))
        assert report["webhook"]["errors"] == [
            "CER_WEBHOOK_SECRET is not set: the webhook is not sent unsigned"
        ]
    finally:
        await engine.dispose()
