"""The statement e-mail links the member's own web page when ``CER_PUBLIC_URL`` is set (and
only then), through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import email
import socket
from collections.abc import Iterator
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from cer_backend.i18n import language
from cer_backend.service.delivery import send_run
from cer_backend.service.mail import MailError, SmtpConfig

from .conftest import Settled

pytestmark = pytest.mark.database

SENDER = "cer@valverde.example.it"
ROSSI = "mario.rossi@example.it"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """What the SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted"

    def body_to(self, address: str) -> str:
        [message] = [m for rcpt, m in self.messages if address in rcpt]
        return str(message.get_payload()[0].get_payload(decode=True).decode())


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, SmtpConfig]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, SmtpConfig("127.0.0.1", port, False, None, None, SENDER)
    finally:
        controller.stop()


@pytest.mark.parametrize("public", ["https://cer.valverde.example.it/", None])
async def test_the_statement_links_the_member_page_when_the_address_is_known(
    settled: Settled, mailbox: tuple[Mailbox, SmtpConfig], public: str | None
) -> None:
    box, smtp = mailbox
    environ = {"CER_SMTP_URL": f"smtp://127.0.0.1:{smtp.port}", "CER_MAIL_FROM": SENDER}
    if public:
        environ["CER_PUBLIC_URL"] = public
    config = SmtpConfig.from_environment(environ)
    await settled.finalise()
    facts = await settled.facts()
    outcome = await send_run(settled.engine, facts, language("it"), config=config, pauses=(0,))
    assert outcome.failed == 0
    body = box.body_to(ROSSI)
    link = f"https://cer.valverde.example.it/socio/{settled.community}/rossi"
    if public:
        assert f"La sua pagina, con tutti i rendiconti e le sue ore: {link}" in body
        assert "link personale" in body
        # only their own page: no other member's address
        assert "/comune" not in body and "/bar" not in body
        comune = box.body_to("ufficio.tecnico@valverde.example.it")
        assert f"/socio/{settled.community}/comune" in comune and "/rossi" not in comune
    else:
        assert "/socio/" not in body and "La sua pagina" not in body


async def test_the_link_in_english(settled: Settled, mailbox: tuple[Mailbox, SmtpConfig]) -> None:
    box, smtp = mailbox
    config = dataclasses.replace(smtp, public_url="http://127.0.0.1:8080")
    await settled.finalise()
    facts = await settled.facts()
    await send_run(settled.engine, facts, language("en"), config=config, pauses=(0,))
    body = box.body_to(ROSSI)
    assert (
        f"Your page, with every statement and your hours: http://127.0.0.1:8080/socio/{settled.community}/rossi"
        in body
    )


@pytest.mark.parametrize("value", ["cer.valverde.example.it", "ftp://cer.example.it", "https://"])
def test_a_public_address_that_is_not_one_is_refused(value: str) -> None:
    environ = {
        "CER_SMTP_URL": "smtp://127.0.0.1:25",
        "CER_MAIL_FROM": SENDER,
        "CER_PUBLIC_URL": value,
    }
    with pytest.raises(MailError, match="CER_PUBLIC_URL"):
        SmtpConfig.from_environment(environ)
