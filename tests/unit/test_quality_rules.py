"""The pure quality rules (hub/domain/quality.py): keywords in a range, silence, talk-over by role,
negation, scoring and the validation of supervisors' rule sets."""

from __future__ import annotations

import pytest

from hub.domain.quality import (
    MAX_RULES,
    CallAnalysis,
    LegAnalysis,
    Moment,
    Rule,
    RuleKind,
    RuleSet,
    Span,
    Speaker,
    Word,
    evaluate,
    merged,
    rule_problems,
    rule_set_for,
    rule_set_problems,
    silences,
    talk_overs,
)
from hub.quality import transcript_lines

A, C = Speaker.AGENT, Speaker.CALLER
K, S, T = RuleKind.KEYWORDS, RuleKind.SILENCE, RuleKind.TALK_OVER


def words(*items: tuple[str, int, int]) -> tuple[Word, ...]:
    return tuple(Word(text=text, start_ms=start, end_ms=end) for text, start, end in items)


def spans(*items: tuple[int, int]) -> tuple[Span, ...]:
    return tuple(Span(start_ms=s, end_ms=e) for s, e in items)


def call(duration_ms: int = 30_000, *, agent_words: tuple[Word, ...] = (), caller_words: tuple[Word, ...] = (),
         agent: tuple[Span, ...] = (), caller: tuple[Span, ...] = ()) -> CallAnalysis:
    return CallAnalysis(duration_ms=duration_ms, legs=(
        LegAnalysis(speaker=A, words=agent_words, activity=agent),
        LegAnalysis(speaker=C, words=caller_words, activity=caller)))


GREETING = Rule(name="greeting", kind=K, speaker=A, phrases=("안녕하세요",), to_ms=15_000, negate=True, points=20)
FORBIDDEN = Rule(name="forbidden", kind=K, speaker=A, phrases=("바보", "shut up"), points=30)
RISK = Rule(name="complaint-risk", kind=K, speaker=C, phrases=("환불",), points=5)
SILENCE = Rule(name="silence", kind=S, longer_than_ms=5_000, points=10)
TALK_OVER = Rule(name="agent-talk-over", kind=T, speaker=A, longer_than_ms=1_000, points=10)


# -- keywords --------------------------------------------------------------------------------------

def test_a_greeting_in_the_first_15_seconds_satisfies_the_negated_rule() -> None:
    heard = call(agent_words=words(("안녕하세요", 1_200, 1_900)))
    assert evaluate(RuleSet(queue="q", rules=(GREETING,)), heard).hits == ()


def test_a_missing_greeting_fires_at_the_start_of_its_range() -> None:
    result = evaluate(RuleSet(queue="q", rules=(GREETING,)), call(agent_words=words(("요금을", 500, 900))))
    assert [h.rule for h in result.hits] == ["greeting"]
    assert result.hits[0].moments == (Moment(at_ms=0, end_ms=15_000, speaker=A),)
    assert result.hits[0].negate and result.score == 80 and result.flagged


def test_a_greeting_after_15_seconds_or_by_the_caller_does_not_count() -> None:
    late = call(agent_words=words(("안녕하세요", 15_000, 15_600)))
    by_caller = call(caller_words=words(("안녕하세요", 1_000, 1_600)))
    rules = RuleSet(queue="q", rules=(GREETING,))
    assert [h.rule for h in evaluate(rules, late).hits] == ["greeting"]
    assert [h.rule for h in evaluate(rules, by_caller).hits] == ["greeting"]


def test_the_range_is_clipped_to_a_short_call() -> None:
    hit = evaluate(RuleSet(queue="q", rules=(GREETING,)), call(8_000)).hits[0]
    assert hit.moments == (Moment(at_ms=0, end_ms=8_000, speaker=A),)


def test_forbidden_words_fire_at_every_time_they_are_said() -> None:
    heard = call(agent_words=words(("바보", 2_000, 2_400), ("네", 3_000, 3_200), ("바보", 9_000, 9_300)))
    hit = evaluate(RuleSet(queue="q", rules=(FORBIDDEN,)), heard).hits[0]
    assert [(m.at_ms, m.end_ms, m.phrase) for m in hit.moments] == [(2_000, 2_400, "바보"), (9_000, 9_300, "바보")]


def test_a_phrase_of_several_words_must_be_said_in_sequence() -> None:
    rules = RuleSet(queue="q", rules=(FORBIDDEN,))
    apart = call(agent_words=words(("shut", 1_000, 1_200), ("the", 1_200, 1_300), ("up", 1_300, 1_500)))
    together = call(agent_words=words(("Shut", 1_000, 1_200), ("up!", 1_200, 1_500)))
    assert evaluate(rules, apart).hits == ()
    assert evaluate(rules, together).hits[0].moments == (Moment(at_ms=1_000, end_ms=1_500, speaker=A,
                                                                phrase="shut up"),)


def test_words_are_compared_case_folded_and_in_nfc() -> None:
    decomposed = "\u1100\u1161"  # 가 as two jamo
    rule = Rule(name="ga", kind=K, phrases=("가",))
    assert evaluate(RuleSet(queue="q", rules=(rule,)), call(agent_words=words((decomposed, 0, 100)))).flagged


def test_a_keyword_rule_without_speaker_listens_to_both_legs() -> None:
    rule = Rule(name="any", kind=K, phrases=("환불",))
    heard = call(agent_words=words(("환불", 4_000, 4_500)), caller_words=words(("환불", 1_000, 1_500)))
    moments = evaluate(RuleSet(queue="q", rules=(rule,)), heard).hits[0].moments
    assert [(m.at_ms, m.speaker) for m in moments] == [(1_000, C), (4_000, A)]


def test_complaint_risk_words_are_the_callers() -> None:
    rules = RuleSet(queue="q", rules=(RISK,))
    assert evaluate(rules, call(agent_words=words(("환불", 1_000, 1_500)))).hits == ()
    assert evaluate(rules, call(caller_words=words(("환불", 1_000, 1_500)))).score == 95


def test_a_word_starting_before_the_range_is_outside_it() -> None:
    rule = Rule(name="late", kind=K, phrases=("바보",), from_ms=10_000, to_ms=20_000)
    rules = RuleSet(queue="q", rules=(rule,))
    assert evaluate(rules, call(agent_words=words(("바보", 9_999, 10_500)))).hits == ()
    assert evaluate(rules, call(agent_words=words(("바보", 10_000, 10_500)))).flagged
    assert evaluate(rules, call(agent_words=words(("바보", 20_000, 20_500)))).hits == ()


# -- silence ---------------------------------------------------------------------------------------

def test_silence_is_where_neither_leg_speaks() -> None:
    heard = call(20_000, agent=spans((0, 3_000), (12_000, 14_000)), caller=spans((2_000, 5_000)))
    assert silences(heard, Span(start_ms=0, end_ms=20_000)) == list(spans((5_000, 12_000), (14_000, 20_000)))
    hit = evaluate(RuleSet(queue="q", rules=(SILENCE,)), heard).hits[0]
    assert [(m.at_ms, m.end_ms) for m in hit.moments] == [(5_000, 12_000), (14_000, 20_000)]


def test_silence_exactly_as_long_as_the_limit_does_not_fire() -> None:
    heard = call(10_000, agent=spans((0, 2_000), (7_000, 10_000)))
    assert evaluate(RuleSet(queue="q", rules=(SILENCE,)), heard).hits == ()
    longer = call(10_000, agent=spans((0, 2_000), (7_001, 10_000)))
    assert evaluate(RuleSet(queue="q", rules=(SILENCE,)), longer).flagged


def test_a_call_without_voice_is_one_silence() -> None:
    assert silences(call(9_000), Span(start_ms=0, end_ms=9_000)) == list(spans((0, 9_000)))


def test_silence_is_clipped_to_the_rules_range() -> None:
    rule = Rule(name="gap", kind=S, from_ms=4_000, to_ms=9_000, longer_than_ms=1_000)
    heard = call(20_000, agent=spans((0, 2_000), (15_000, 16_000)))
    hit = evaluate(RuleSet(queue="q", rules=(rule,)), heard).hits[0]
    assert [(m.at_ms, m.end_ms) for m in hit.moments] == [(4_000, 9_000)]


def test_negated_silence_fires_when_there_was_no_pause() -> None:
    rule = Rule(name="no-pause", kind=S, longer_than_ms=2_000, negate=True)
    busy = call(10_000, agent=spans((0, 10_000)))
    assert [h.rule for h in evaluate(RuleSet(queue="q", rules=(rule,)), busy).hits] == ["no-pause"]
    assert evaluate(RuleSet(queue="q", rules=(rule,)), call(10_000)).hits == ()


# -- talk-over -------------------------------------------------------------------------------------

def test_talk_over_belongs_to_who_started_later() -> None:
    heard = call(agent=spans((1_000, 6_000)), caller=spans((3_000, 8_000)))
    assert talk_overs(heard, Span(start_ms=0, end_ms=30_000), None) == [Moment(at_ms=3_000, end_ms=6_000, speaker=C)]
    assert evaluate(RuleSet(queue="q", rules=(TALK_OVER,)), heard).hits == ()  # the agent's rule
    callers = Rule(name="caller-talk-over", kind=T, speaker=C, longer_than_ms=2_500)
    hit = evaluate(RuleSet(queue="q", rules=(callers,)), heard).hits[0]
    assert hit.moments == (Moment(at_ms=3_000, end_ms=6_000, speaker=C),)


def test_the_agent_talking_over_the_caller_fires_the_agents_rule() -> None:
    heard = call(caller=spans((1_000, 6_000)), agent=spans((2_000, 4_500)))
    assert evaluate(RuleSet(queue="q", rules=(TALK_OVER,)), heard).hits[0].moments == (
        Moment(at_ms=2_000, end_ms=4_500, speaker=A),)


def test_short_overlaps_and_backchannels_do_not_fire() -> None:
    heard = call(caller=spans((1_000, 6_000)), agent=spans((2_000, 2_900), (5_500, 7_000)))
    assert evaluate(RuleSet(queue="q", rules=(TALK_OVER,)), heard).hits == ()


def test_speakers_starting_together_count_once_for_the_caller() -> None:
    heard = call(caller=spans((1_000, 4_000)), agent=spans((1_000, 3_000)))
    assert talk_overs(heard, Span(start_ms=0, end_ms=30_000), None) == [Moment(at_ms=1_000, end_ms=3_000, speaker=C)]


def test_talk_over_is_clipped_to_the_range() -> None:
    rule = Rule(name="early", kind=T, speaker=A, to_ms=3_000, longer_than_ms=500)
    heard = call(caller=spans((1_000, 6_000)), agent=spans((2_000, 5_000)))
    assert evaluate(RuleSet(queue="q", rules=(rule,)), heard).hits[0].moments == (
        Moment(at_ms=2_000, end_ms=3_000, speaker=A),)


def test_negated_talk_over() -> None:
    rule = Rule(name="no-overlap", kind=T, negate=True)
    assert evaluate(RuleSet(queue="q", rules=(rule,)), call(agent=spans((0, 1_000)))).flagged
    overlapping = call(agent=spans((0, 2_000)), caller=spans((1_000, 3_000)))
    assert not evaluate(RuleSet(queue="q", rules=(rule,)), overlapping).flagged


# -- scoring and rule sets --------------------------------------------------------------------------

def test_the_score_is_100_less_the_points_of_every_rule_that_fired_and_never_below_0() -> None:
    heard = call(20_000, agent_words=words(("바보", 2_000, 2_400)), agent=spans((2_000, 2_400)))
    result = evaluate(RuleSet(queue="q", rules=(GREETING, FORBIDDEN, SILENCE, TALK_OVER, RISK)), heard)
    assert [h.rule for h in result.hits] == ["greeting", "forbidden", "silence"]
    assert result.score == 100 - 20 - 30 - 10
    heavy = tuple(Rule(name=f"r{i}", kind=S, points=40) for i in range(3))
    assert evaluate(RuleSet(queue="q", rules=heavy), call()).score == 0


def test_a_clean_call_scores_100_and_is_not_flagged() -> None:
    heard = call(12_000, agent_words=words(("안녕하세요", 500, 1_200), ("요금을", 3_000, 3_400)),
                 agent=spans((500, 1_200), (3_000, 6_000)), caller=spans((6_500, 10_000)))
    result = evaluate(RuleSet(queue="q", rules=(GREETING, FORBIDDEN, SILENCE, TALK_OVER, RISK)), heard)
    assert result.hits == () and result.score == 100 and not result.flagged


def test_no_rules_no_hits() -> None:
    assert evaluate(RuleSet(queue="q"), call()).score == 100


def test_a_queue_without_rules_uses_the_star_set_then_none() -> None:
    star, billing = RuleSet(queue="*", rules=(SILENCE,)), RuleSet(queue="billing", rules=(GREETING,))
    stored = {"*": star, "billing": billing}
    assert rule_set_for("billing", stored) is billing
    assert rule_set_for("outages", stored) is star
    assert rule_set_for(None, stored) is star
    assert rule_set_for("outages", {"billing": billing}).rules == ()


def test_merged_joins_overlapping_and_touching_spans() -> None:
    assert merged(spans((5, 8), (0, 2), (2, 3), (7, 9))) == list(spans((0, 3), (5, 9)))


def test_the_phrases_of_a_rule_set_feed_the_recognisers_grammar() -> None:
    assert RuleSet(queue="q", rules=(GREETING, FORBIDDEN, SILENCE)).phrases() == {"안녕하세요", "바보", "shut up"}


# -- validation ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("rule", "problem"), [
    (Rule(name="Bad Name", kind=S), "name"),
    (Rule(name="", kind=S), "name"),
    (Rule(name="p", kind=S, points=101), "points"),
    (Rule(name="p", kind=S, points=-1), "points"),
    (Rule(name="r", kind=S, from_ms=5_000, to_ms=5_000), "range"),
    (Rule(name="r", kind=S, from_ms=-1), "range"),
    (Rule(name="r", kind=S, to_ms=5 * 3600 * 1000), "range"),
    (Rule(name="l", kind=S, longer_than_ms=-5), "longer_than_ms"),
    (Rule(name="k", kind=K), "phrases"),
    (Rule(name="k", kind=K, phrases=("  ",)), "phrases"),
    (Rule(name="k", kind=K, phrases=("x" * 101,)), "phrases"),
    (Rule(name="k", kind=K, phrases=("\ud800",)), "Unicode"),
    (Rule(name="k", kind=K, phrases=tuple(f"w{i}" for i in range(51))), "phrases"),
    (Rule(name="s", kind=S, phrases=("바보",)), "only keywords"),
    (Rule(name="s", kind=S, speaker=A), "speaker"),
])
def test_invalid_rules_are_explained(rule: Rule, problem: str) -> None:
    problems = rule_problems(rule)
    assert problems and any(problem in p for p in problems), problems


def test_valid_rules_have_no_problems() -> None:
    assert rule_set_problems([GREETING, FORBIDDEN, RISK, SILENCE, TALK_OVER]) == []


def test_a_rule_set_needs_unique_names_and_at_most_50_rules() -> None:
    assert rule_set_problems([SILENCE, SILENCE]) == ["silence: the name is used twice"]
    many = [Rule(name=f"r{i}", kind=S) for i in range(MAX_RULES + 1)]
    assert rule_set_problems(many) == [f"rules: at most {MAX_RULES}"]


def test_words_never_show_in_their_repr() -> None:
    assert "바보" not in repr(Word(text="바보", start_ms=1, end_ms=2))


def test_transcript_lines_join_a_speakers_run_of_words_until_a_pause() -> None:
    result = {"legs": {"agent": {"words": [["안녕하세요", 500, 1_200, 1.0], ["고객님", 1_300, 1_700, 1.0],
                                           ["네", 9_000, 9_200, 1.0]]},
                       "caller": {"words": [["요금을", 2_000, 2_400, 1.0]]}}}
    assert transcript_lines(result) == [
        {"speaker": "agent", "start_ms": 500, "end_ms": 1_700, "text": "안녕하세요 고객님"},
        {"speaker": "caller", "start_ms": 2_000, "end_ms": 2_400, "text": "요금을"},
        {"speaker": "agent", "start_ms": 9_000, "end_ms": 9_200, "text": "네"}]
    assert transcript_lines({}) == []
