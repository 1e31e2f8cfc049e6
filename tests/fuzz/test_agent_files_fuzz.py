"""Hostile uploads against POST /api/conversations/{id}/attachments (real SecantusDB and Redis):
random bytes, names and multipart bodies get a 201 (an allowed type by its bytes) or a clear 4xx,
never a 5xx; a refused upload stores nothing; the hub serves afterwards (ADR 0046)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.bootstrap import RunningHub
from hub.domain.file_types import sniff
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient
from tests.fuzz.profile import fuzz
from tests.fuzz.strategies import hostile_text

MAGIC = st.sampled_from([b"", b"%PDF-", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"<svg ", b"MZ", b"\xef\xbb\xbf<html>"])
FILES = st.tuples(MAGIC, st.binary(max_size=300)).map(lambda t: t[0] + t[1])


BOUNDARY = "fuzz-b0undary"


def multipart(data: bytes, name: str, caption: str | None) -> bytes:
    """Built by hand: the name and caption go as they are (lone surrogates as invalid UTF-8, control
    characters raw), which a client library would refuse to send."""
    raw = name.encode("utf-8", "surrogatepass").replace(b'"', b"%22")
    body = (f"--{BOUNDARY}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="' + raw
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + data + b"\r\n")
    if caption is not None:
        body += (f"--{BOUNDARY}\r\n".encode() + b'Content-Disposition: form-data; name="text"\r\n\r\n'
                 + caption.encode("utf-8", "surrogatepass") + b"\r\n")
    return body + f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture
async def held(hub: RunningHub) -> AsyncIterator[tuple[AgentClient, str]]:
    alice = await AgentClient.online(hub.base_url, "alice")
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(hub.base_url, http)
        await widget.connect(name="Fuzz")
        await widget.say("hello")
        conversation_id = await alice.take_offer()
        yield alice, conversation_id
        await widget.close()
    await alice.close()


@fuzz(60)
@given(data=FILES, name=hostile_text(), caption=st.none() | hostile_text())
async def test_random_files_and_names(hub: RunningHub, db: Db, held: tuple[AgentClient, str], data: bytes,
                                      name: str, caption: str | None) -> None:
    alice, conversation_id = held
    before = await db["attachments"].count_documents({})
    async with alice.session.post(f"{hub.base_url}/api/conversations/{conversation_id}/attachments",
                                  data=multipart(data, name, caption),
                                  headers={"X-CSRF-Token": alice.csrf,
                                           "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}) as resp:
        status, answer = resp.status, await resp.json()
    assert status in (201, 400, 413, 415), (status, answer)
    after = await db["attachments"].count_documents({})
    if status == 201:
        [file] = answer["message"]["attachments"]
        assert file["content_type"] == sniff(data) and after == before + 1
        assert "/" not in file["filename"] and not any(ord(c) < 32 for c in file["filename"])
    else:
        assert after == before and answer["error"]["message"]


@fuzz(40)
@given(body=st.binary(max_size=400), boundary=st.text("abcXYZ-09", min_size=1, max_size=20))
async def test_broken_multipart_bodies(hub: RunningHub, db: Db, held: tuple[AgentClient, str], body: bytes,
                                       boundary: str) -> None:
    alice, conversation_id = held
    async with alice.session.post(f"{hub.base_url}/api/conversations/{conversation_id}/attachments", data=body,
                                  headers={"X-CSRF-Token": alice.csrf,
                                           "Content-Type": f"multipart/form-data; boundary={boundary}"}) as resp:
        assert resp.status in (400, 413, 415), resp.status
    assert await db["attachments"].count_documents({}) == 0
    await alice.call("GET", "/api/me")  # still serving
