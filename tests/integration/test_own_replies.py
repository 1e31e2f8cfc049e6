"""A reply's frame skips the console tab that posted it (ADR 0073): that tab has the reply in the
answer to its POST. The agent's other tabs and the supervisors watching still get it, and a socket
id that is not the posting agent's own changes nothing."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import aiohttp

from console.live import SOCKET_HEADER
from hub.bootstrap import RunningHub
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from tests.clients import AgentClient, next_frame
from tests.integration.test_agent_files import PDF, upload


def _sms(n: int) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=ExternalId(f"kannel-own-{n}"), sender="+8613800138001",
                          text=f"电费账单 {n}", received_at=datetime.now(UTC), meta={"to": "95598"})


async def _post(agent: AgentClient, conversation_id: str, text: str, socket_id: str | None) -> str:
    headers = {"X-CSRF-Token": agent.csrf, **({SOCKET_HEADER: socket_id} if socket_id else {})}
    async with agent.session.post(f"{agent.base_url}/api/conversations/{conversation_id}/messages",
                                  json={"text": text, "private": False}, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["message"]["id"])


async def _tab(stack: contextlib.AsyncExitStack, hub: RunningHub,
               agent: AgentClient) -> tuple[aiohttp.ClientWebSocketResponse, str]:
    """One more console tab of ``agent`` (closed with ``stack``) and its socket id from its hello."""
    tab = await agent.session.ws_connect(hub.base_url.replace("http", "ws", 1) + "/console/ws", origin=hub.base_url)
    stack.push_async_callback(tab.close)
    hello = await next_frame(tab, "hello", 10)
    assert isinstance(hello["socket"], str) and len(hello["socket"]) >= 16
    return tab, hello["socket"]


async def test_the_posting_tab_gets_no_frame_of_its_own_reply(hub: RunningHub) -> None:
    async with contextlib.AsyncExitStack() as stack:
        alice = await AgentClient.online(hub.base_url, "alice")  # the only one taking offers
        sara = await AgentClient(hub.base_url).login("sara")  # a supervisor: sees every message
        bob = await AgentClient(hub.base_url).login("bob")
        for agent in (alice, sara, bob):
            stack.push_async_callback(agent.close)
        await sara.connect()
        first = await hub.context.inbox.accept_inbound(_sms(0))
        conversation_id = first.conversation.id
        assert await alice.take_offer() == conversation_id
        # Alice has three tabs: the one that took the offer (alice.ws), one that posts the replies,
        # and one that only watches.
        posting_tab, posting_id = await _tab(stack, hub, alice)
        watching_tab, watching_id = await _tab(stack, hub, alice)
        assert posting_id != watching_id

        skipped = await _post(alice, conversation_id, "您好 账单已查到", posting_id)
        told = await _post(alice, conversation_id, "还有别的问题吗", None)

        # The posting tab's next message frame is the second reply: the first one skipped it.
        frame = await next_frame(posting_tab, "message", 10)
        assert frame["message"]["id"] == told, "the tab that posted the first reply got its frame"
        # Her other tabs and the supervisor get both, in order.
        for socket in (watching_tab, alice.ws, sara.ws):
            assert socket is not None
            assert (await next_frame(socket, "message", 10, {"message__id": skipped}))["message"]["id"] == skipped
            assert (await next_frame(socket, "message", 10))["message"]["id"] == told

        # A file she sends from that tab skips it the same way (its answer carries the message).
        status, answer = await upload(alice, conversation_id, PDF, "账单.pdf", text="附件", socket_id=posting_id)
        assert status == 201, answer
        filed = str(answer["message"]["id"])
        told = await _post(alice, conversation_id, "请查收", None)
        assert (await next_frame(posting_tab, "message", 10))["message"]["id"] == told, "the file's frame came"
        for socket in (watching_tab, sara.ws):
            assert socket is not None
            assert (await next_frame(socket, "message", 10, {"message__id": filed}))["message"]["id"] == filed

        # An id that is not one of the posting agent's sockets (a made-up one, a supervisor's, a
        # colleague's) changes nothing: every tab gets the frame.
        sara_tab, sara_id = await _tab(stack, hub, sara)
        bob_tab, bob_id = await _tab(stack, hub, bob)
        await bob_tab.close()
        for other in ("not-a-socket", sara_id, bob_id):
            posted = await _post(alice, conversation_id, f"再确认一下 {other}", other)
            assert (await next_frame(posting_tab, "message", 10))["message"]["id"] == posted
            assert (await next_frame(sara_tab, "message", 10))["message"]["id"] == posted
