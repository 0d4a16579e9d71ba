"""The statement e-mail links the member's own web page and carries the member's personal
sign-in link when ``CER_PUBLIC_URL`` is set (and only then), through a real SMTP server
(aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest

from cer_backend.i18n import language
from cer_backend.service.delivery import send_run
from cer_backend.service.mail import MailError, SmtpConfig
from cer_backend.service.web_access import peek_member_link, use_member_link
from tests.support.smtp import Mailbox, smtp_server

from .conftest import Settled

pytestmark = pytest.mark.database

SENDER = "cer@valverde.example.it"
ROSSI = "mario.rossi@example.it"


def body_to(box: Mailbox, address: str) -> str:
    [message] = box.to(address)
    return str(message.get_payload()[0].get_payload(decode=True).decode())


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, SmtpConfig]]:
    with smtp_server() as box:
        yield box, SmtpConfig("127.0.0.1", box.port, False, None, None, SENDER)


@pytest.mark.parametrize("public", ["https://cer.valverde.example.it/", None])
async def test_the_statement_links_the_member_page_when_the_address_is_known(
    settled: Settled, mailbox: tuple[Mailbox, SmtpConfig], public: str | None
) -> None:
    box, _config = mailbox
    environ = {"CER_SMTP_URL": box.url, "CER_MAIL_FROM": SENDER}
    if public:
        environ["CER_PUBLIC_URL"] = public
    config = SmtpConfig.from_environment(environ)
    await settled.finalise()
    facts = await settled.facts()
    outcome = await send_run(settled.engine, facts, language("it"), config=config, pauses=(0,))
    assert outcome.failed == 0
    body = body_to(box, ROSSI)
    link = f"https://cer.valverde.example.it/socio/{settled.community}/rossi"
    if public:
        assert f"La sua pagina, con tutti i rendiconti e le sue ore: {link}" in body
        assert (
            "Per entrare apra il suo link personale (vale una volta sola, entro 7 giorni)" in body
        )
        # the personal sign-in link: this member's, usable once
        found = re.search(r"https://cer\.valverde\.example\.it/socio/accesso/(\S+)", body)
        assert found, body
        secret = found.group(1)
        assert await peek_member_link(settled.engine, secret) == (settled.community, "rossi")
        assert await use_member_link(settled.engine, secret) is not None
        assert await use_member_link(settled.engine, secret) is None  # once only
        # only their own page: no other member's address
        assert "/comune" not in body and "/bar" not in body
        comune = body_to(box, "ufficio.tecnico@valverde.example.it")
        assert f"/socio/{settled.community}/comune" in comune and "/rossi" not in comune
    else:
        assert "/socio/" not in body and "La sua pagina" not in body
        assert "link personale" not in body


async def test_the_link_in_english(settled: Settled, mailbox: tuple[Mailbox, SmtpConfig]) -> None:
    box, smtp = mailbox
    config = dataclasses.replace(smtp, public_url="http://127.0.0.1:8080")
    await settled.finalise()
    facts = await settled.facts()
    await send_run(settled.engine, facts, language("en"), config=config, pauses=(0,))
    body = body_to(box, ROSSI)
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
