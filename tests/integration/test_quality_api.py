"""The call quality API's edges (console/qa_api.py): supervisors only, rule sets validated with
every problem named, bad input refused with a clear 400, nothing stored from a refused request."""

from __future__ import annotations

from hub.bootstrap import RunningHub
from tests.clients import AgentClient

GREETING = {"name": "greeting", "kind": "keywords", "speaker": "agent", "phrases": ["안녕하세요"], "to_ms": 15000,
            "negate": True, "points": 20}
SILENCE = {"name": "silence", "kind": "silence", "longer_than_ms": 5000}


async def test_rule_sets_are_for_supervisors_and_validated(hub: RunningHub) -> None:
    alice = await AgentClient(hub.base_url).login("alice")
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        for method, path in (("GET", "/api/quality/rules"), ("GET", "/api/quality/flagged"),
                             ("GET", "/api/quality/status"), ("GET", "/api/quality/search?q=x")):
            await alice.call(method, path, expect=403)
        await alice.call("PUT", "/api/quality/rules/billing", {"rules": [SILENCE]}, expect=403)

        stored = await sara.call("PUT", "/api/quality/rules/billing", {"rules": [GREETING, SILENCE]})
        assert [r["name"] for r in stored["rules"]] == ["greeting", "silence"]
        assert stored["rules"][1]["points"] == 10 and stored["rules"][1]["negate"] is False  # defaults
        await sara.call("PUT", "/api/quality/rules/*", {"rules": [SILENCE]})

        bad = await sara.call("PUT", "/api/quality/rules/billing", {"rules": [
            SILENCE, SILENCE, {"name": "words", "kind": "keywords"}, {**SILENCE, "name": "s2", "speaker": "agent"}]},
            expect=400)
        message = bad["error"]["message"]
        assert "silence: the name is used twice" in message and "words: phrases: 1 to 50" in message
        assert "s2: speaker" in message
        for body in ({"rules": [{**SILENCE, "colour": "red"}]}, {"rules": [{**SILENCE, "kind": "shouting"}]},
                     {"rules": [{**SILENCE, "points": 101}]}, {"rules": "all of them"}, {}):
            await sara.call("PUT", "/api/quality/rules/billing", body, expect=400)
        await sara.call("PUT", "/api/quality/rules/no%20spaces", {"rules": []}, expect=400)

        sets = {s["queue"]: [r["name"] for r in s["rules"]] for s in (await sara.call("GET", "/api/quality/rules"))[
            "rule_sets"]}
        assert sets == {"*": ["silence"], "billing": ["greeting", "silence"]}  # nothing refused was stored

        assert (await sara.call("DELETE", "/api/quality/rules/*"))["deleted"] == "*"
        await sara.call("DELETE", "/api/quality/rules/*", expect=404)
        await sara.call("GET", "/api/quality/search", expect=400)
        await sara.call("GET", f"/api/quality/search?q={'x' * 101}", expect=400)
        await sara.call("POST", "/api/quality/calls/nope-1/review", {"score": 50}, expect=404)
        await sara.call("POST", "/api/quality/calls/nope-1/review", {"score": 500}, expect=400)
        assert (await sara.call("GET", "/api/quality/flagged"))["calls"] == []
        assert (await sara.call("GET", "/api/quality/status"))["jobs"] == {"pending": 0, "running": 0, "done": 0,
                                                                            "failed": 0}
    finally:
        await alice.close()
        await sara.close()
