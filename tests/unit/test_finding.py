"""Finding conversations, pure (hub/domain/finding.py): search terms, filters, labels."""

from __future__ import annotations

import pytest

from hub.domain.finding import View, check_label, conversation_terms, parse_filters, search_terms
from hub.errors import InvalidInput


def test_a_chinese_word_in_a_sentence_is_found_and_neighbours_only() -> None:
    terms = set(conversation_terms(["这个月的电费为什么这么高"], contact_name="王小明", identities=[]))
    assert set(search_terms("电费")[1]) <= terms
    assert not set(search_terms("电量")[1]) <= terms
    assert set(search_terms("小明")[1]) <= terms  # the contact's name


def test_phone_email_and_id_searches() -> None:
    terms = set(conversation_terms([], contact_name="", identities=["sms:+8613911112222",
                                                                   "email:Ann.Lee@Example.org"]))
    for query in ("+86 139 1111 2222", "139-1111-2222", "(139) 1111 2222"):
        assert set(search_terms(query)[1]) <= terms, query
    assert set(search_terms("ann.lee@example.org")[1]) <= terms
    assert search_terms("c_AbCdEfGhIjKlMnOp") == ("c_AbCdEfGhIjKlMnOp", ())


def test_private_text_is_what_the_caller_leaves_out() -> None:
    assert "secret" not in conversation_terms(["public words"], contact_name="x", identities=[])


@pytest.mark.parametrize("query", ["x" * 201, "a\x00b", "bell\x07", "!!!", "   ...  "])
def test_bad_searches_are_refused(query: str) -> None:
    with pytest.raises(InvalidInput):
        search_terms(query)


def test_filters() -> None:
    filters = parse_filters(view="resolved", queue="billing", channel=None, label=" VIP ", q="电费")
    assert filters.view is View.RESOLVED and filters.label == "vip" and filters.searching
    assert not parse_filters(view=None, queue=None, channel=None, label=None, q="  ").searching
    for bad in ({"view": "everything"}, {"queue": "<script>"}, {"channel": "a b"}, {"label": "<b>"}):
        args = {"view": None, "queue": None, "channel": None, "label": None, "q": None, **bad}
        with pytest.raises(InvalidInput):
            parse_filters(**args)


@pytest.mark.parametrize("raw,stored", [(" Billing  Dispute ", "billing dispute"), ("电费投诉", "电费投诉"),
                                        ("\uff36\uff29\uff30", "vip"), ("a/b:c-d_e.f", "a/b:c-d_e.f")])
def test_labels_are_normalised(raw: str, stored: str) -> None:
    assert check_label(raw) == stored


@pytest.mark.parametrize("raw", ["", "   ", "x" * 41, "<b>", "a&b", "\"x\"", "a\u0007", "a\tb\nc<", "it's"])
def test_labels_with_markup_or_control_characters_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        check_label(raw)
