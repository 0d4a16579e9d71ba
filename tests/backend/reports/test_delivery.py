"""``reports send`` against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import subprocess
from collections.abc import Iterator
from email.message import Message

import pytest

from cer_backend.i18n import language
from cer_backend.service.delivery import list_deliveries, send_run
from cer_backend.service.delivery_schedule import deliver_finalised
from cer_backend.service.mail import MailError, SmtpConfig
from cer_backend.service.report_model import ReportError
from tests.support.cli import run_cli
from tests.support.smtp import Mailbox, smtp_server

from .conftest import COMMUNITY, Settled, pdf_pages, settle_month

pytestmark = pytest.mark.database

SENDER = "cer@valverde.example.it"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, SmtpConfig]]:
    with smtp_server() as mailbox:
        yield mailbox, SmtpConfig("127.0.0.1", mailbox.port, False, None, None, SENDER)


def attachments(message: Message) -> dict[str, bytes]:
    return {
        part.get_filename(): part.get_payload(decode=True)
        for part in message.walk()
        if part.get_filename()
    }


async def test_each_member_gets_only_their_statement_and_the_council_the_report(
    settled: Settled, smtp: tuple[Mailbox, SmtpConfig]
) -> None:
    mailbox, config = smtp
    await settled.finalise()
    facts = await settled.facts()
    outcome = await send_run(settled.engine, facts, language("it"), config=config, pauses=(0,))
    assert outcome.failed == 0
    for address in ("sindaco@valverde.example.it", "ragioneria@valverde.example.it"):
        [report] = mailbox.to(address)
        assert report["Subject"] == "Rendiconto energetico di CER Valverde, giugno 2025"
        assert report["From"] == SENDER
        [(name, data)] = attachments(report).items()
        assert name.endswith(".pdf")
        assert "Rendiconto energetico della comunità" in pdf_pages(data)[0]
    for address, own, others in (
        ("mario.rossi@example.it", "Famiglia Rossi", ("Comune di Valverde", "Bar Centrale")),
        ("ufficio.tecnico@valverde.example.it", "Comune di Valverde", ("Famiglia Rossi",)),
    ):
        [statement] = mailbox.to(address)
        assert statement["Subject"] == "Il suo rendiconto di CER Valverde, giugno 2025"
        files = attachments(statement)
        assert sorted(name.rsplit(".", 1)[1] for name in files) == ["csv", "pdf"]
        pdf = next(data for name, data in files.items() if name.endswith(".pdf"))
        text = "\n".join(pdf_pages(pdf))
        assert own in text and not any(other in text for other in others)
        body = statement.get_payload()[0].get_payload(decode=True).decode()
        assert own in body
    assert len(mailbox.messages) == 4  # two reports, two statements; the bar has no e-mail
    skipped = [m for m in outcome.messages if m["status"] == "skipped"]
    assert [(m["member"], m["recipient"]) for m in skipped] == [("bar", None)]
    rows = await list_deliveries(settled.engine, settled.community, facts.id)
    assert sorted((r["kind"], r["member"], r["status"]) for r in rows) == [
        ("community_report", None, "sent"),
        ("community_report", None, "sent"),
        ("statement", "bar", "skipped"),
        ("statement", "comune", "sent"),
        ("statement", "rossi", "sent"),
    ]
    again = await send_run(settled.engine, facts, language("it"), config=config, pauses=(0,))
    assert len(mailbox.messages) == 4  # nothing is sent twice
    assert {m["status"] for m in again.messages} == {"already_sent", "skipped"}


async def test_a_failed_send_is_recorded_does_not_block_and_is_retried(
    settled: Settled, smtp: tuple[Mailbox, SmtpConfig]
) -> None:
    mailbox, config = smtp
    mailbox.refuse.add("mario.rossi@example.it")
    await settled.finalise()
    facts = await settled.facts()
    outcome = await send_run(settled.engine, facts, language("en"), config=config, pauses=(0,))
    assert outcome.failed == 1
    assert len(mailbox.messages) == 3  # the others went
    rows = {
        r["member"] or r["recipient"]: r
        for r in await list_deliveries(settled.engine, settled.community)
    }
    assert rows["rossi"]["status"] == "failed" and rows["rossi"]["attempts"] == 3
    assert "550" in rows["rossi"]["error"]
    assert mailbox.to("ufficio.tecnico@valverde.example.it")[0]["Subject"] == (
        "Your statement of CER Valverde, June 2025"
    )
    mailbox.refuse.clear()
    retry = await send_run(settled.engine, facts, language("en"), config=config, pauses=(0,))
    assert retry.failed == 0
    assert len(mailbox.messages) == 4
    assert len(mailbox.to("mario.rossi@example.it")) == 1
    rows = {
        r["member"] or r["recipient"]: r
        for r in await list_deliveries(settled.engine, settled.community)
    }
    assert rows["rossi"]["status"] == "sent" and rows["rossi"]["attempts"] == 4


async def test_a_draft_is_sent_only_when_asked_and_says_bozza(
    settled: Settled, smtp: tuple[Mailbox, SmtpConfig]
) -> None:
    mailbox, config = smtp
    facts = await settled.facts()
    with pytest.raises(ReportError, match="draft"):
        await send_run(settled.engine, facts, language("it"), config=config)
    assert mailbox.messages == []
    await send_run(
        settled.engine, facts, language("it"), config=config, allow_draft=True, pauses=(0,)
    )
    [statement] = mailbox.to("mario.rossi@example.it")
    assert statement["Subject"].startswith("[BOZZA] ")
    pdf = next(d for n, d in attachments(statement).items() if n.endswith(".pdf"))
    assert all("BOZZA" in page for page in pdf_pages(pdf))


async def test_reports_send_from_the_shell(
    settled: Settled, smtp: tuple[Mailbox, SmtpConfig], database_url: str
) -> None:
    mailbox, config = smtp
    await settled.finalise()
    run = settled.run["id"]
    env = {
        **os.environ,
        "CER_SMTP_URL": f"smtp://127.0.0.1:{config.port}",
        "CER_MAIL_FROM": SENDER,
    }

    async def cli(*args: str, environ: dict[str, str] = env) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            run_cli, *args, "--database", database_url, env=environ, timeout=120
        )

    dry = await cli("reports", "send", "--community", settled.community, "--run", run, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "skipped" in dry.stdout and "bar" in dry.stdout
    assert mailbox.messages == []
    sent = await cli("reports", "send", "--community", settled.community, "--run", run, "--json")
    assert sent.returncode == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["counts"] == {"sent": 4, "skipped": 1}
    assert len(mailbox.messages) == 4
    no_smtp = await cli(
        "reports",
        "send",
        "--community",
        settled.community,
        "--run",
        run,
        environ={k: v for k, v in env.items() if k != "CER_SMTP_URL"},
    )
    assert no_smtp.returncode == 2 and "CER_SMTP_URL" in no_smtp.stderr
    assert "Traceback" not in no_smtp.stderr


async def test_serve_sends_a_month_once_it_is_final_when_the_community_asks(
    database_url: str, smtp: tuple[Mailbox, SmtpConfig]
) -> None:
    mailbox, config = smtp
    document = copy.deepcopy(COMMUNITY)
    document["settings"]["report_delivery"] = "after_finalise"
    settled = await settle_month(database_url, document=document)
    environ = {"CER_SMTP_URL": f"smtp://127.0.0.1:{config.port}", "CER_MAIL_FROM": SENDER}
    try:
        assert await deliver_finalised(settled.engine, environ) == []  # a draft waits
        await settled.finalise()
        [outcome] = await deliver_finalised(settled.engine, environ)
        assert outcome.run == settled.run["id"] and outcome.failed == 0
        assert len(mailbox.messages) == 4
        assert await deliver_finalised(settled.engine, environ) == []  # once
        assert len(mailbox.messages) == 4
    finally:
        await settled.engine.dispose()


async def test_serve_leaves_a_manual_community_alone(
    settled: Settled, smtp: tuple[Mailbox, SmtpConfig]
) -> None:
    mailbox, config = smtp
    await settled.finalise()
    environ = {"CER_SMTP_URL": f"smtp://127.0.0.1:{config.port}", "CER_MAIL_FROM": SENDER}
    assert await deliver_finalised(settled.engine, environ) == []
    assert mailbox.messages == []
    with pytest.raises(MailError, match="CER_MAIL_FROM"):
        await deliver_finalised(settled.engine, {"CER_SMTP_URL": environ["CER_SMTP_URL"]})


async def test_two_sends_at_once_send_each_message_once(
    settled: Settled, smtp: tuple[Mailbox, SmtpConfig]
) -> None:
    mailbox, config = smtp
    await settled.finalise()
    facts = await settled.facts()
    for _round in range(3):
        outcomes = await asyncio.gather(
            *(
                send_run(settled.engine, facts, language("it"), config=config, pauses=(0,))
                for _ in range(3)
            )
        )
        assert sum(o.failed for o in outcomes) == 0
    assert len(mailbox.messages) == 4  # each message claimed by one send only
    assert sorted(len(mailbox.to(a)) for rcpt, _m in mailbox.messages for a in rcpt) == [1] * 4
    statuses = [m["status"] for o in outcomes for m in o.messages]
    assert sorted(statuses) == ["already_sent"] * 12 + ["skipped"] * 3
