"""Surveys, pure: reading a score, the re-ask rule, whom to ask, the signed link, and CSAT from the
projection's counters computed by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub.domain import survey_links
from hub.domain.stream import StoredEvent
from hub.domain.surveys import Step, Survey, SurveyState, decide, question, read_score, should_offer
from hub.kpi_figures import figures
from hub.kpi_intervals import Bucket, replay

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "payload", "score"), [
    ("5", None, 5), ("  4 ", None, 4), ("\uff15", None, 5), ("五", None, 5), ("三分", None, 3), ("2!", None, 2),
    ("⭐⭐⭐⭐⭐", None, 5), ("★★★", None, 3), ("⭐️⭐️", None, 2), ("4 stars", None, 4), ("1.", None, 1),
    ("Five", "survey:5", 5), ("x", "survey:1", 1),
    ("6", None, None), ("0", None, None), ("45", None, None), ("⭐" * 6, None, None), ("", None, None),
    ("great", None, None), ("3", "survey:9", None), ("4", "/talk_to_human", 4), ("٣", None, None),
])
def test_a_score_is_read_in_the_forms_customers_use(text: str, payload: str | None, score: int | None) -> None:
    assert read_score(text, payload) == score


def survey(reasks: int = 0) -> Survey:
    return Survey(conversation_id="c1", contact_id="k1", channel="sms", key="sms:+1", agent_id="a1", queue="general",
                  language="en", state=SurveyState.OPEN, offered_at=T0, expires_at=T0 + timedelta(hours=24),
                  reasks=reasks)


def test_a_miss_is_asked_again_once_then_the_message_goes_on() -> None:
    assert decide(survey(), "6").step is Step.REASK
    assert decide(survey(reasks=1), "6").step is Step.PASS_ON
    assert decide(survey(reasks=1), "4") .score == 4


@pytest.mark.parametrize("text", ["my power went out again this morning", "WO000012 1", "wo12345 5"])
def test_a_real_message_or_a_work_order_answer_is_not_quizzed(text: str) -> None:
    assert decide(survey(), text).step is Step.PASS_ON


def test_a_file_is_not_an_answer() -> None:
    assert decide(survey(), "ok", has_files=True).step is Step.PASS_ON


@pytest.mark.parametrize(("kwargs", "offered"), [
    ({}, True),
    ({"from_state": "wrap_up"}, True),
    ({"from_state": "bot"}, False),  # the bot's own resolve: no agent to score
    ({"from_state": "queued"}, False),  # closed while waiting
    ({"agent_id": None}, False),
    ({"event_type": "abandoned"}, False),
    ({"enabled": False}, False),
    ({"channel": "email"}, False),  # switched off for e-mail below
])
def test_who_is_asked(kwargs: dict[str, object], offered: bool) -> None:
    args: dict[str, object] = {"event_type": "resolved", "from_state": "assigned", "agent_id": "a1",
                               "channel": "sms", "enabled": True, "channels": {"sms": True, "email": False}}
    assert should_offer(**{**args, **kwargs}) is offered  # type: ignore[arg-type]


def test_the_question_per_form_and_language() -> None:
    assert "1" in question("en", form="reply") and "5" in question("en", form="reply")
    assert question("zh-CN", form="link", link="https://x/survey/t").endswith("https://x/survey/t")
    assert question("en", form="buttons", texts={"en": "Rate us"}) == "Rate us"


KEY = survey_links.link_key(b"k" * 32)


def test_a_signed_link_names_its_conversation_until_it_expires() -> None:
    token = survey_links.sign(KEY, "c_abc", T0 + timedelta(hours=1))
    assert survey_links.verify(KEY, token, now=T0).conversation_id == "c_abc"
    with pytest.raises(survey_links.BadLink) as expired:
        survey_links.verify(KEY, token, now=T0 + timedelta(hours=1))
    assert expired.value.reason == "expired"


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # a forged signature
    lambda t: t.replace("c_abc", "c_abd"),  # another conversation
    lambda t: t.replace(t.split(".")[1], str(int(t.split(".")[1]) + 3600)),  # a later expiry
    lambda t: survey_links.sign(survey_links.link_key(b"other" * 8), "c_abc", T0 + timedelta(hours=1)),
    lambda t: "c_abc.1.2.3", lambda t: "", lambda t: "x" * 500,
])
def test_a_forged_link_is_refused(mangle) -> None:  # type: ignore[no-untyped-def]
    token = survey_links.sign(KEY, "c_abc", T0 + timedelta(hours=1))
    with pytest.raises(survey_links.BadLink) as refused:
        survey_links.verify(KEY, mangle(token), now=T0)
    assert refused.value.reason == "invalid"


def resolved_and_answered(conversation: str, agent: str, score: str | None, minute: int) -> list[StoredEvent]:
    at = T0 + timedelta(minutes=minute)

    def event(version: int, type_: str, source: str | None, target: str, **detail: str) -> StoredEvent:
        return StoredEvent(seq=0, id=f"{conversation}:{version}", conversation_id=conversation, version=version,
                           type=type_, from_state=source, to_state=target, at=at + timedelta(seconds=version),
                           channel="sms", queue="billing", agent_id=None if version < 4 else agent, detail=detail)

    events = [event(1, "created", None, "new"), event(2, "queued", "new", "queued"),
              event(3, "offered", "queued", "offered"), event(4, "assigned", "offered", "assigned"),
              event(5, "resolved", "assigned", "resolved")]
    if score is not None:
        events.append(event(6, "survey_answered", "resolved", "closed", score=score))
    return events


def test_csat_computed_by_hand() -> None:
    # Five conversations answered 5, 4, 2 and 4 (one unanswered): 3 of 4 scored 4-5 = 75 %, mean 15 / 4.
    events = [*resolved_and_answered("c1", "alice", "5", 0), *resolved_and_answered("c2", "alice", "4", 1),
              *resolved_and_answered("c3", "bob", "2", 2), *resolved_and_answered("c4", "bob", "4", 3),
              *resolved_and_answered("c5", "bob", None, 4)]
    buckets = replay(events)
    queue: dict[str, int] = {}
    bob: dict[str, int] = {}
    for bucket, counts in buckets.items():
        target = queue if bucket.agent == "" else bob if bucket.agent == "bob" else None
        if target is not None:
            for name, value in counts.items():
                target[name] = target.get(name, 0) + value
    total = figures(queue)
    assert (total.surveys_answered, total.surveys_satisfied, total.csat, total.csat_mean) == (4, 3, 0.75, 3.75)
    mine = figures(bob, per_agent=True)
    assert (mine.surveys_answered, mine.csat, mine.csat_mean) == (2, 0.5, 3.0)
    assert figures({}).csat is None and figures({}).csat_mean is None  # nobody answered: undefined, not 0
    assert Bucket(T0, "billing", "sms") in buckets


def test_a_bad_score_in_the_event_counts_nothing() -> None:
    events = resolved_and_answered("c1", "alice", "9", 0)
    assert all("surveys_answered" not in counts for counts in replay(events).values())
