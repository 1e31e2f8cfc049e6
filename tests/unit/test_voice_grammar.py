"""The recognition grammar from curated examples, and reading what Vosk heard against it (voice/grammar.py)."""

from __future__ import annotations

from voice.grammar import closest, in_language, normalise, phrases

EXAMPLES = ["전기 요금을 확인하고 싶어요", "상담원 연결해 주세요", "How much is my bill?", "我要查电费",
            "상담원 연결해 주세요!"]


def test_the_grammar_holds_the_quick_replies_and_the_examples_of_the_language_once_each() -> None:
    expected = ("요금 확인", "전기 요금을 확인하고 싶어요", "상담원 연결해 주세요")
    assert phrases("ko", EXAMPLES, ["요금 확인"]) == expected
    assert phrases("en", EXAMPLES, ["Pay my bill"]) == ("pay my bill", "how much is my bill")
    assert phrases("zh", EXAMPLES) == ("我要查电费",)
    assert normalise("  Agent,   please! ") == "agent please"
    assert in_language("상담원", "ko") and not in_language("agent", "ko") and in_language("agent", "en-us")


def test_what_vosk_strings_together_from_grammar_words_is_read_as_the_closest_phrase() -> None:
    grammar = phrases("ko", EXAMPLES)
    assert closest("주세요 요금을 확인하고 싶어요", grammar) == "전기 요금을 확인하고 싶어요"
    assert closest("상담원 연결해 주세요", grammar) == "상담원 연결해 주세요"
    assert closest("주세요", grammar) is None  # one shared word of three: too little
    assert closest("", grammar) is None
    assert closest("我要查电", phrases("zh", EXAMPLES)) == "我要查电费"  # characters, for text without spaces
