"""The console's language on the agent's account (issue 16 item 9, ADR 0048; docs/api.md
"POST /api/me/language"): saved, read back by /api/me in a new session, refused with a clear 400
for anything but zh or en, and nobody else's changes."""

from __future__ import annotations

from hub.bootstrap import RunningHub
from tests.clients import AgentClient


async def test_the_language_is_saved_on_her_account_and_bad_values_are_refused(hub: RunningHub) -> None:
    alice, bob = await AgentClient(hub.base_url).login("alice"), await AgentClient(hub.base_url).login("bob")
    try:
        assert (await alice.call("GET", "/api/me"))["agent"]["language"] is None  # her browser's until she picks
        answer = await alice.call("POST", "/api/me/language", {"language": "en"})
        assert answer["agent"]["language"] == "en"
        assert (await alice.call("GET", "/api/me"))["agent"]["language"] == "en"
        again = await AgentClient(hub.base_url).login("alice")  # another browser, another session
        try:
            assert again.agent["language"] == "en"
            await again.call("POST", "/api/me/language", {"language": "zh"})
            assert (await again.call("GET", "/api/me"))["agent"]["language"] == "zh"
        finally:
            await again.close()
        for bad in ({"language": "fr"}, {"language": "zh-CN"}, {"language": "<b>"}, {"language": ""},
                    {"language": 7}, {}, {"language": "en", "extra": "\ud800"}):
            await alice.call("POST", "/api/me/language", bad, expect=400)
        assert (await hub.context.directory.agent_by_username("alice")).language == "zh"  # type: ignore[union-attr]
        assert (await bob.call("GET", "/api/me"))["agent"]["language"] is None
    finally:
        await alice.close()
        await bob.close()
