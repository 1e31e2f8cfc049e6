"""The composer's pure JavaScript (console/static/console/links.js and canned.js) run under node:
which text becomes a link (http, https and mailto only), the "/" menu's search in Chinese and
English, and a canned reply's variables filled in both spellings."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

STATIC = Path(__file__).resolve().parents[2] / "console" / "static" / "console"

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_js(module: str, expression: str) -> Any:
    script = (f"import * as m from {json.dumps((STATIC / module).as_uri())};\n"
              f"console.log(JSON.stringify({expression}));\n")
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                          timeout=30, check=True)
    return json.loads(done.stdout)


def links(text: str) -> list[dict[str, str]]:
    result: list[dict[str, str]] = run_js("links.js", f"m.linkParts({json.dumps(text)})")
    return result


def test_http_https_and_mailto_become_links_and_trailing_punctuation_stays_text() -> None:
    assert links("See https://northgrid.example/outages?area=7. Or mail help@x.example") == [
        {"text": "See "}, {"text": "https://northgrid.example/outages?area=7",
                           "href": "https://northgrid.example/outages?area=7"},
        {"text": ". Or mail help@x.example"}]
    assert links("(mailto:help@northgrid.example)") == [
        {"text": "("}, {"text": "mailto:help@northgrid.example", "href": "mailto:help@northgrid.example"},
        {"text": ")"}]
    assert links("www.northgrid.example，谢谢") == [  # noqa: RUF001 (a full-width comma ends the link)
        {"text": "www.northgrid.example", "href": "https://www.northgrid.example/"}, {"text": "，谢谢"}]  # noqa: RUF001


@pytest.mark.parametrize("text", [
    "javascript:alert(1)", "JaVaScRiPt:alert(document.cookie)", "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd", "vbscript:msgbox(1)", "http://", "<a href=\"javascript:x\">x</a>", "",
])
def test_nothing_else_becomes_a_link(text: str) -> None:
    assert all("href" not in part for part in links(text)), text
    assert "".join(part["text"] for part in links(text)) == text


def test_a_flood_of_urls_is_capped_and_no_text_is_lost() -> None:
    text = " ".join(f"https://e.example/{i}" for i in range(200))
    parts = links(text)
    assert sum("href" in p for p in parts) == 50
    assert "".join(p["text"] for p in parts) == text


CANNED = [
    {"id": "greeting", "title": "Greeting", "text": "Hello {{contact.name}}, this is {{agent.name}}."},
    {"id": "outage", "title": "停电通知", "text": "您好，您所在区域正在抢修。"},  # noqa: RUF001
    {"id": "account", "title": "Ask for account number", "text": "Your account {{contact.account_number}}?"},
]


def test_search_by_title_and_text_in_both_languages() -> None:
    def ids(query: str) -> list[str]:
        found: list[dict[str, str]] = run_js("canned.js", f"m.searchCanned({json.dumps(CANNED)}, {json.dumps(query)})")
        return [c["id"] for c in found]

    assert ids("") == ["account", "greeting", "outage"]
    assert ids("停电") == ["outage"]
    assert ids("抢修") == ["outage"]  # in the text only
    assert ids("ACCOUNT") == ["account"]
    assert ids("this") == ["greeting"]
    assert ids("nothing-like-it") == []


def test_variables_filled_in_both_spellings_unknown_ones_stay() -> None:
    values = {"contact.name": "Ann", "agent.name": "Chen Jing", "contact.account_number": "3100456789"}
    text = ("Hi {{contact.name}} ({customer_name}), {{ agent.name }}: {{contact.account_number}} {order_number} "
            "{{contact.meter_id}}")
    filled = run_js("canned.js", f"m.fillCanned({json.dumps(text)}, {json.dumps(values)})")
    assert filled == "Hi Ann (Ann), Chen Jing: 3100456789 {order_number} {{contact.meter_id}}"


def test_the_slash_token_at_the_caret() -> None:
    assert run_js("canned.js", "m.slashToken('/gree', 5)") == {"start": 0, "end": 5, "query": "gree"}
    assert run_js("canned.js", "m.slashToken('ok /停电', 6)") == {"start": 3, "end": 6, "query": "停电"}
    assert run_js("canned.js", "m.slashToken('see https://x/y', 15)") is None
    assert run_js("canned.js", "m.slashToken('a/b', 3)") is None
