"""Files from the agent (issue 16 item 4, ADR 0046) over the real protocols: an agent's PDF reaches
the web chat widget as a file of the message, which the customer downloads with her own
credential (nobody else's works); bad uploads get a clear 4xx and store nothing."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import aiohttp

from hub.bootstrap import RunningHub
from hub.domain.file_types import MAX_UPLOAD_BYTES
from hub.domain.model import Attachment
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def upload(agent: AgentClient, conversation_id: str, data: bytes, filename: str, *, text: str | None = None,
                 csrf: bool = True, socket_id: str | None = None) -> tuple[int, dict[str, Any]]:
    form = aiohttp.FormData(quote_fields=False)  # the file name as raw UTF-8, as browsers send it
    form.add_field("file", io.BytesIO(data), filename=filename, content_type="application/octet-stream")
    if text is not None:
        form.add_field("text", text)
    headers = {"X-CSRF-Token": agent.csrf} if csrf else {}
    if socket_id is not None:  # the posting tab's socket (its hello frame): the message's frame skips it
        headers["X-Console-Socket"] = socket_id
    async with agent.session.post(f"{agent.base_url}/api/conversations/{conversation_id}/attachments",
                                  data=form, headers=headers) as resp:
        return resp.status, await resp.json()


async def widget_download(http: aiohttp.ClientSession, base_url: str, attachment_id: str,
                          visitor: dict[str, str] | None) -> tuple[int, bytes, dict[str, str]]:
    headers = {"X-Visitor-Id": visitor["id"], "X-Visitor-Token": visitor["token"]} if visitor else {}
    async with http.get(f"{base_url}/webchat/attachments/{attachment_id}", headers=headers) as resp:
        return resp.status, await resp.read(), dict(resp.headers)


async def test_an_agents_file_reaches_the_widget_and_only_its_customer_downloads_it(
        hub: RunningHub, http: aiohttp.ClientSession, db: Db) -> None:
    alice = await AgentClient.online(hub.base_url, "alice")
    try:
        ann = WidgetClient(hub.base_url, http)
        await ann.connect(name="Ann")
        await ann.say("Please send me the bill as a PDF")
        conversation_id = await alice.take_offer()

        status, answer = await upload(alice, conversation_id, PDF, "电费账单.pdf", text="Your bill, as asked.")
        assert status == 201, answer
        message = answer["message"]
        [file] = message["attachments"]
        assert (message["text"], file["filename"], file["content_type"], file["size"]) == (
            "Your bill, as asked.", "电费账单.pdf", "application/pdf", len(PDF))

        frame = await ann.next("message")
        assert frame["message"]["id"] == message["id"]
        assert [a["id"] for a in frame["message"]["attachments"]] == [file["id"]]
        status, body, headers = await widget_download(http, hub.base_url, file["id"], ann.visitor)
        assert (status, body) == (200, PDF)
        assert headers["Content-Type"] == "application/pdf" and headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Disposition"].startswith("attachment;")

        # Another customer, a forged token, no credential, an unknown id: nothing.
        bob = WidgetClient(hub.base_url, http)
        await bob.connect(name="Bob")
        assert (await widget_download(http, hub.base_url, file["id"], bob.visitor))[0] == 404
        assert ann.visitor is not None
        forged = {"id": ann.visitor["id"], "token": "0" * len(ann.visitor["token"])}
        assert (await widget_download(http, hub.base_url, file["id"], forged))[0] == 401
        assert (await widget_download(http, hub.base_url, file["id"], None))[0] == 401
        assert (await widget_download(http, hub.base_url, "a-unknown", ann.visitor))[0] == 404
        # The agent holding it downloads it from the console, an agent of another team does not.
        async with alice.session.get(f"{hub.base_url}{file['url']}") as resp:
            assert resp.status == 200 and await resp.read() == PDF
        chen = await AgentClient(hub.base_url).login("chen")
        try:
            async with chen.session.get(f"{hub.base_url}{file['url']}") as resp:
                assert resp.status == 403
        finally:
            await chen.close()
        await ann.close()
        await bob.close()
    finally:
        await alice.close()


async def test_bad_uploads_get_a_clear_4xx_and_store_nothing(
        hub: RunningHub, http: aiohttp.ClientSession, db: Db) -> None:
    alice = await AgentClient.online(hub.base_url, "alice")
    bob = await AgentClient(hub.base_url).login("bob")
    try:
        ann = WidgetClient(hub.base_url, http)
        await ann.connect(name="Ann")
        await ann.say("hello")
        conversation_id = await alice.take_offer()

        status, answer = await upload(alice, conversation_id, b"a" * (MAX_UPLOAD_BYTES + 1), "big.txt")
        assert (status, answer["error"]["code"]) == (413, "too_large")
        for data, name in [(b"<html><script>alert(1)</script></html>", "bill.pdf"), (b"MZ\x90\x00", "bill.png"),
                           (b"PK\x03\x04zip", "bill.txt"), (b"", "empty.txt")]:
            status, answer = await upload(alice, conversation_id, data, name)
            assert (status, answer["error"]["code"]) == (415, "unsupported_type"), name
            assert "only PNG, JPEG" in answer["error"]["message"] or "empty" in answer["error"]["message"]
        status, answer = await upload(bob, conversation_id, PDF, "bill.pdf")  # not his conversation
        assert status == 403, answer
        status, answer = await upload(alice, "c-unknown", PDF, "bill.pdf")
        assert status == 404, answer
        status, answer = await upload(alice, conversation_id, PDF, "bill.pdf", csrf=False)
        assert status == 403 and answer["error"]["code"] == "csrf"
        async with http.post(f"{hub.base_url}/api/conversations/{conversation_id}/attachments",
                             data={"file": io.BytesIO(PDF)}) as resp:  # no session
            assert resp.status == 401
        status, answer = await upload(alice, conversation_id, PDF, "bill.pdf", text="x" * 5000)  # caption too long
        assert (status, answer["error"]["code"]) == (400, "too_long")
        async with alice.session.post(f"{hub.base_url}/api/conversations/{conversation_id}/attachments",
                                      json={"file": "x"}, headers={"X-CSRF-Token": alice.csrf}) as resp:
            assert resp.status == 415
        async with alice.session.post(f"{hub.base_url}/api/conversations/{conversation_id}/attachments",
                                      data=b"--x\r\nbroken", headers={"X-CSRF-Token": alice.csrf,
                                      "Content-Type": "multipart/form-data; boundary=x"}) as resp:
            assert 400 <= resp.status < 500
        assert await db["attachments"].count_documents({}) == 0
        await ann.close()
    finally:
        await alice.close()
        await bob.close()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")


async def test_an_image_is_previewed_inline_only_when_its_bytes_are_an_image(
        hub: RunningHub, http: aiohttp.ClientSession) -> None:
    """``?inline=1`` (the timeline's preview) serves a real image inline under a CSP that runs nothing;
    a file merely declared an image (a customer's channel said image/png, the bytes are HTML) and a
    PDF are 415, and the plain download is unchanged."""
    alice = await AgentClient.online(hub.base_url, "alice")
    try:
        ann = WidgetClient(hub.base_url, http)
        await ann.connect(name="Ann")
        await ann.say("Here is a photo of my meter")
        conversation_id = await alice.take_offer()
        status, answer = await upload(alice, conversation_id, PNG, "meter.png")
        assert status == 201, answer
        [image] = answer["message"]["attachments"]
        assert image["content_type"] == "image/png"
        store = hub.context.attachments
        disguised = await store.put(Attachment(filename="meter.png", content_type="image/png",
                                               data=b"<svg onload=alert(1)></svg>"),
                                    conversation_id=conversation_id, message_id="m_x", at=datetime.now(UTC))
        async with alice.session.get(f"{hub.base_url}{image['url']}?inline=1") as resp:
            assert resp.status == 200 and await resp.read() == PNG
            assert resp.headers["Content-Type"] == "image/png" and resp.headers["Content-Disposition"] == "inline"
            assert resp.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
            assert resp.headers["X-Content-Type-Options"] == "nosniff"
        async with alice.session.get(f"{hub.base_url}/api/attachments/{disguised.id}?inline=1") as resp:
            assert resp.status == 415 and (await resp.json())["error"]["code"] == "not_an_image"
        status, pdf = await upload(alice, conversation_id, PDF, "bill.pdf")
        async with alice.session.get(f"{hub.base_url}{pdf['message']['attachments'][0]['url']}?inline=1") as resp:
            assert resp.status == 415
        async with alice.session.get(f"{hub.base_url}{image['url']}?inline=yes") as resp:
            assert resp.status == 400
        async with alice.session.get(f"{hub.base_url}{image['url']}") as resp:  # the download as before
            assert resp.status == 200 and resp.headers["Content-Disposition"].startswith("attachment;")
        chen = await AgentClient(hub.base_url).login("chen")
        try:
            async with chen.session.get(f"{hub.base_url}{image['url']}?inline=1") as resp:
                assert resp.status == 403
        finally:
            await chen.close()
        await ann.close()
    finally:
        await alice.close()
