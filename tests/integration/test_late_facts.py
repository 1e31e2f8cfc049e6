"""A widget writing while its agent's resolve is still on the bus (ADR 0072).

The widget's session learns that its conversation left the open states from a ``ConversationChanged``
fact. A message written in between must not be stored in the resolved conversation, where nobody
would read it: the process that resolved it knows better than the session, and the contact's
record decides. Since ADR 0074 the resolving process hands the fact to its own sessions without the
bus window (here 400 ms, which now delays only other processes), so in one process both that and
the check of ADR 0072 keep the message out.
"""

from __future__ import annotations

import aiohttp
import pytest

from hub.bootstrap import RunningHub
from hub.config import BusSettings, Settings
from tests.clients import AgentClient, WidgetClient
from tests.conftest import make_settings

SLOW_BUS_MS = 400.0  # the resolve's fact reaches the widget's session this much later at least


@pytest.fixture
def settings(db_name: str) -> Settings:
    return make_settings(db_name).model_copy(update={"bus": BusSettings(gather_ms=SLOW_BUS_MS)})


async def test_a_message_written_before_the_resolve_fact_arrives_starts_a_new_conversation(
        hub: RunningHub, agent: AgentClient, http: aiohttp.ClientSession) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    first = await widget.say("my meter reading looks wrong")
    conversation_id = await agent.take_offer()
    assert conversation_id == first["conversation_id"]
    await agent.call("POST", f"/api/conversations/{conversation_id}/resolve")

    again = await widget.say("one more thing")  # the session still holds the resolve's fact's gather window

    assert again["conversation_id"] != conversation_id
    resolved = await hub.context.messages.timeline(conversation_id, include_private=True)
    assert [m.text for m in resolved] == ["my meter reading looks wrong"]
    fresh = await hub.context.conversations.get(again["conversation_id"])
    assert fresh.state.value in {"queued", "offered"}
