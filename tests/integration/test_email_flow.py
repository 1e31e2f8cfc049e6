"""E-mail end to end with the real peers: Postfix (SMTP) delivering into Dovecot (IMAP), a hub
reading the support mailboxes and answering through Postfix, an agent in the console."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings
from tests.mailserver import (
    SUPPORT,
    MailServer,
    customer_address,
    customer_mail,
    email_settings,
    mailbox,
    plain_text,
    running_mail_server,
    smtp_send,
)

SECOND_SUPPORT = "support-billing@hub.test"
ASK = "我的电费账单比上个月高了一倍，为什么？"  # noqa: RUF001 (Chinese punctuation)
ANSWER = "您好，我们正在核查您的账单。"  # noqa: RUF001
THANKS = "谢谢！账号是 1234。"  # noqa: RUF001


@pytest.fixture
def mail() -> Iterator[MailServer]:
    with running_mail_server() as server:
        yield server


@pytest.fixture
async def email_hub(mail: MailServer, mongo_url: str, redis_url: str, redis: Redis,
                    db_name: str) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name).model_copy(update={"email": email_settings(mail, SUPPORT, SECOND_SUPPORT)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


@pytest.fixture
async def alice(email_hub: RunningHub) -> AsyncIterator[AgentClient]:
    agent = await AgentClient.online(email_hub.base_url, "alice")
    yield agent
    await agent.close()


async def inbound(db: Db) -> list[dict[str, Any]]:
    return [doc async for doc in db["messages"].find({"channel": "email", "inbound": True}).sort("sent_at", 1)]


async def with_text(db: Db, text: str) -> dict[str, Any] | None:
    return next((m for m in await inbound(db) if m["text"] == text), None)


async def received(mail: MailServer, address: str, count: int = 1, folder: str = "INBOX") -> list[EmailMessage]:
    async def enough() -> list[EmailMessage] | None:
        messages = await mailbox(mail, address, folder)
        return messages if len(messages) >= count else None

    result: list[EmailMessage] = await eventually(enough, timeout=15)
    return result


async def test_mail_thread_between_customer_and_agent(mail: MailServer, email_hub: RunningHub, alice: AgentClient,
                                                      db: Db) -> None:
    customer = customer_address()
    first = customer_mail(customer, f"{ASK}\n\n-- \n张伟\n北京", subject="电费账单问题")
    await smtp_send(mail, first, sender=customer, recipients=[SUPPORT])

    conversation_id = await alice.take_offer(timeout=20)
    view = await alice.call("GET", f"/api/conversations/{conversation_id}")
    [message] = [e["message"] for e in view["timeline"] if e["kind"] == "message"]
    assert message["text"] == ASK
    assert message["subject"] == "电费账单问题" and "张伟" in message["quoted"]

    await alice.reply(conversation_id, ANSWER)
    [reply] = await received(mail, customer)
    assert plain_text(reply).strip() == ANSWER
    assert reply["Subject"] == "Re: 电费账单问题"
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert first["Message-ID"] in reply["References"]
    assert SUPPORT in reply["From"]
    stored_reply = await eventually(lambda: _sent(db, conversation_id))
    assert stored_reply["provider_ids"] == [reply["Message-ID"]]

    answer = customer_mail(customer, f"{THANKS}\n\nOn Monday, Northgrid wrote:\n> 您好", subject="Re: 电费账单问题",
                           In_Reply_To=reply["Message-ID"], References=f"{first['Message-ID']} {reply['Message-ID']}")
    await smtp_send(mail, answer, sender=customer, recipients=[SUPPORT])
    stored = await eventually(lambda: with_text(db, THANKS), timeout=15)
    assert stored["conversation_id"] == conversation_id

    await alice.reply(conversation_id, "Thank you, fixed.")
    replies = await received(mail, customer, count=2)
    second = next(m for m in replies if "fixed" in plain_text(m))
    assert second["In-Reply-To"] == answer["Message-ID"]
    assert second["References"].split()[:3] == [first["Message-ID"], reply["Message-ID"], answer["Message-ID"]]


async def _sent(db: Db, conversation_id: str) -> dict[str, Any] | None:
    doc = await db["messages"].find_one({"conversation_id": conversation_id, "inbound": {"$ne": True},
                                         "provider_ids.0": {"$exists": True}})
    return doc


async def test_attachment_is_stored_and_downloadable_by_its_agent_only(
        mail: MailServer, email_hub: RunningHub, alice: AgentClient, db: Db) -> None:
    customer = customer_address()
    message = customer_mail(customer, "Photo of the meter attached.", subject="Meter")
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="电表 读数.pdf")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="x.html")
    await smtp_send(mail, message, sender=customer, recipients=[SECOND_SUPPORT])  # the second mailbox

    conversation_id = await alice.take_offer(timeout=20)
    view = await alice.call("GET", f"/api/conversations/{conversation_id}")
    [entry] = [e["message"] for e in view["timeline"] if e["kind"] == "message"]
    files = {a["filename"]: a for a in entry["attachments"]}
    assert set(files) == {"电表 读数.pdf", "x.html"}

    async with alice.session.get(email_hub.base_url + files["电表 读数.pdf"]["url"]) as resp:
        assert resp.status == 200 and await resp.read() == pdf
        assert resp.headers["Content-Type"] == "application/pdf"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Disposition"].startswith("attachment;")
    async with alice.session.get(email_hub.base_url + files["x.html"]["url"]) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"] == "application/octet-stream"

    async with aiohttp.ClientSession() as anonymous, anonymous.get(
            email_hub.base_url + files["x.html"]["url"]) as resp:
        assert resp.status == 401
    bob = await AgentClient(email_hub.base_url).login("bob")
    try:
        async with bob.session.get(email_hub.base_url + files["x.html"]["url"]) as resp:
            assert resp.status == 403
        async with bob.session.get(email_hub.base_url + "/api/attachments/a_nope") as resp:
            assert resp.status in (403, 404)
    finally:
        await bob.close()


async def test_poison_message_is_quarantined_and_the_next_one_arrives(
        mail: MailServer, email_hub: RunningHub, db: Db) -> None:
    customer = customer_address()
    broken = (f"From: {customer}\r\nTo: {SUPPORT}\r\nSubject: broken\r\nMessage-ID: <broken-1@example.test>\r\n"
              "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"missing\"\r\n\r\n"
              "no boundary ever starts here\r\n").encode()
    await smtp_send(mail, broken, sender=customer, recipients=[SUPPORT])
    await smtp_send(mail, customer_mail(customer, "after the broken one"), sender=customer, recipients=[SUPPORT])
    await eventually(lambda: with_text(db, "after the broken one"), timeout=15)
    [quarantined] = await received(mail, SUPPORT, folder="Quarantine")
    assert quarantined["Message-ID"] == "<broken-1@example.test>"
    assert not any(m["external_id"] == "<broken-1@example.test>" for m in await inbound(db))


async def test_imap_restart_under_the_watcher_loses_nothing(mail: MailServer, email_hub: RunningHub, db: Db) -> None:
    customer = customer_address()
    await smtp_send(mail, customer_mail(customer, "before the restart"), sender=customer, recipients=[SUPPORT])
    await eventually(lambda: with_text(db, "before the restart"), timeout=15)
    mail.stop_imap()
    # Postfix queues what it cannot hand to Dovecot's LMTP and retries every second.
    await smtp_send(mail, customer_mail(customer, "while dovecot is down"), sender=customer, recipients=[SUPPORT])
    await asyncio.sleep(1.5)  # the watcher notices and backs off (nothing to poll for)
    mail.start_imap()
    await smtp_send(mail, customer_mail(customer, "after the restart"), sender=customer, recipients=[SUPPORT])
    await eventually(lambda: with_text(db, "while dovecot is down"), timeout=30)
    await eventually(lambda: with_text(db, "after the restart"), timeout=30)
    texts = [m["text"] for m in await inbound(db)]
    assert sorted(texts) == sorted(["before the restart", "while dovecot is down", "after the restart"])


FUZZ: list[bytes] = [
    b"\x00\x01\x02 not an e-mail at all \xff\xfe",
    b"From: \r\nSubject: no sender\r\n\r\nhello",
    b"From: =?utf-8?b?!!!?= <not-an-address>\r\nSubject: x\r\n\r\nbody",
    b"From: a@example.test\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
    b"--b\r\nContent-Type: text/plain\r\n",
    b"From: a@example.test\r\nSubject: =?x-unknown?q?=ZZ?=\r\nContent-Type: text/plain; charset=x-nonsense\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!!not base64!!!!\r\n",
    b"From: a@example.test\r\n" + b"X-Long: " + b"a" * 5000 + b"\r\n\r\n" + b"x" * 200_000,
]


async def test_bad_input_never_stops_the_mailbox(mail: MailServer, email_hub: RunningHub, db: Db) -> None:
    customer = customer_address()
    for raw in FUZZ:
        await smtp_send(mail, raw, sender=customer, recipients=[SUPPORT])
    await smtp_send(mail, customer_mail(customer, "still served"), sender=customer, recipients=[SUPPORT])
    await eventually(lambda: with_text(db, "still served"), timeout=20)
    # No sender; nothing to read: quarantined (a move may still be finishing when the last mail is in).
    await received(mail, SUPPORT, count=2, folder="Quarantine")
    kept = await mailbox(mail, SUPPORT, "INBOX") + await mailbox(mail, SUPPORT, "Quarantine")
    assert len(kept) >= len(FUZZ) + 1  # nothing deleted: read into the hub, or moved to quarantine


async def test_an_agents_file_goes_out_as_a_mime_attachment(
        mail: MailServer, email_hub: RunningHub, alice: AgentClient) -> None:
    """Issue 16 item 4 (ADR 0046): the PDF an agent sends reaches the customer's mailbox as a MIME
    attachment with its name and bytes, the caption as the body."""
    from tests.integration.test_agent_files import PDF, upload

    customer = customer_address()
    await smtp_send(mail, customer_mail(customer, "Could you send me my bill?", subject="Bill"), sender=customer,
                    recipients=[SUPPORT])
    conversation_id = await alice.take_offer(timeout=20)
    status, answer = await upload(alice, conversation_id, PDF, "电费账单.pdf", text="Your bill is attached.")
    assert status == 201, answer
    assert answer["message"]["status"] == "queued"
    [reply] = await received(mail, customer)
    assert plain_text(reply).strip() == "Your bill is attached."
    [part] = list(reply.iter_attachments())
    assert (part.get_content_type(), part.get_filename(), part.get_content()) == (
        "application/pdf", "电费账单.pdf", PDF)
