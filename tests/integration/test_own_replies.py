"""A reply's frame skips the console tab that posted it (ADR 0073): that tab has the reply in the
answer to its POST. The agent's other tabs and the supervisors watching still get it, and a socket
id that is not the posting agent's own changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from console.live import SOCKET_HEADER
from hub.bootstrap import RunningHub
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from tests.clients import AgentClient, next_frame


def _sms(n: int) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=ExternalId(f"kannel-own-{n}"), sender="+8613800138001",
                          text=f"电费账单 {n}", received_at=datetime.now(UTC), meta={"to": "95598"})


async def _post(agent: AgentClient, conversation_id: str, text: str, socket_id: str | None) -> str:
    headers = {"X-CSRF-Token": agent.csrf, **({SOCKET_HEADER: socket_id} if socket_id else {})}
    async with agent.session.post(f"{agent.base_url}/api/conversations/{conversation_id}/messages",
                                  json={"text": text, "private": False}, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return str((await resp.json())["message"]["id"])


async def test_the_posting_tab_gets_no_frame_of_its_own_reply(hub: RunningHub) -> None:
    alice = await AgentClient.online(hub.base_url, "alice")  # the only one taking offers
    sara = await AgentClient(hub.base_url).login("sara")  # a supervisor: sees every message
    bob = await AgentClient(hub.base_url).login("bob")
    second_tab: aiohttp.ClientWebSocketResponse | None = None
    try:
        await sara.connect()
        first = await hub.context.inbox.accept_inbound(_sms(0))
        conversation_id = first.conversation.id
        assert await alice.take_offer() == conversation_id
        tab = await alice.session.ws_connect(hub.base_url.replace("http", "ws", 1) + "/console/ws",
                                             origin=hub.base_url)
        second_tab = tab
        hello = await next_frame(tab, "hello", 10)
        assert isinstance(hello["socket"], str) and len(hello["socket"]) >= 16
        assert alice.ws is not None
        # The first tab's id: what its hello frame said (a fresh socket, to read that frame here).
        first_tab = await alice.session.ws_connect(hub.base_url.replace("http", "ws", 1) + "/console/ws",
                                                   origin=hub.base_url)
        first_id = (await next_frame(first_tab, "hello", 10))["socket"]
        assert first_id != hello["socket"]

        skipped = await _post(alice, conversation_id, "您好 账单已查到", first_id)
        told = await _post(alice, conversation_id, "还有别的问题吗", None)

        # The posting tab's next message frame is the second reply: the first one skipped it.
        frame = await next_frame(first_tab, "message", 10)
        assert frame["message"]["id"] == told, "the tab that posted the first reply got its frame"
        # Her other tabs and the supervisor get both, in order.
        for socket in (tab, alice.ws, sara.ws):
            assert socket is not None
            assert (await next_frame(socket, "message", 10, {"message__id": skipped}))["message"]["id"] == skipped
            assert (await next_frame(socket, "message", 10))["message"]["id"] == told

        # An id that is not one of the posting agent's sockets (a made-up one, a supervisor's, a
        # colleague's) changes nothing: every tab gets the frame.
        sara_tab = await sara.session.ws_connect(hub.base_url.replace("http", "ws", 1) + "/console/ws",
                                                 origin=hub.base_url)
        sara_id = (await next_frame(sara_tab, "hello", 10))["socket"]
        bob_tab = await bob.session.ws_connect(hub.base_url.replace("http", "ws", 1) + "/console/ws",
                                               origin=hub.base_url)
        bob_id = (await next_frame(bob_tab, "hello", 10))["socket"]
        await bob_tab.close()
        for other in ("not-a-socket", sara_id, bob_id):
            posted = await _post(alice, conversation_id, f"再确认一下 {other}", other)
            assert (await next_frame(first_tab, "message", 10))["message"]["id"] == posted
            assert (await next_frame(sara_tab, "message", 10))["message"]["id"] == posted
        await sara_tab.close()
        await first_tab.close()
    finally:
        if second_tab is not None:
            await second_tab.close()
        for agent in (alice, sara, bob):
            await agent.close()
