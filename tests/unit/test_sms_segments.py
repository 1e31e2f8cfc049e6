"""SMS segment counting (GSM-7 vs UCS-2) in Python and in the console's sms.js: same tables, same answers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from channels.sms import segments
from channels.sms.segments import Encoding, count, split

SMS_JS = Path(__file__).resolve().parents[2] / "console" / "static" / "console" / "sms.js"

# (text, encoding, units, segments, remaining)
CASES = [
    ("", Encoding.GSM7, 0, 0, 160),
    ("hello", Encoding.GSM7, 5, 1, 155),
    ("x" * 160, Encoding.GSM7, 160, 1, 0),
    ("x" * 161, Encoding.GSM7, 161, 2, 145),
    ("x" * 306, Encoding.GSM7, 306, 2, 0),
    ("x" * 307, Encoding.GSM7, 307, 3, 152),
    # the euro sign and the other extension characters take two septets
    ("€", Encoding.GSM7, 2, 1, 158),
    ("€" * 80, Encoding.GSM7, 160, 1, 0),
    ("€" * 81, Encoding.GSM7, 162, 2, 143),
    ("[]{}^~|\\\f", Encoding.GSM7, 18, 1, 142),
    # an escape pair never straddles two parts: after 152 septets '€' does not fit in the 153 of part one
    ("x" * 152 + "€" + "x" * 10, Encoding.GSM7, 164, 2, 141),
    ("ΔΦΓΛΩΠΨΣΘΞ äöñüà ÄÖÑÜ ¿¡ £¥§", Encoding.GSM7, 28, 1, 132),
    # one character outside GSM-7 makes the whole text UCS-2
    ("x" * 159 + "ç", Encoding.UCS2, 160, 3, 41),
    ("查询电费", Encoding.UCS2, 4, 1, 66),
    ("查" * 70, Encoding.UCS2, 70, 1, 0),
    ("查" * 71, Encoding.UCS2, 71, 2, 63),
    ("查" * 134, Encoding.UCS2, 134, 2, 0),
    # an emoji is a surrogate pair: two units, never split
    ("😀", Encoding.UCS2, 2, 1, 68),
    ("x" * 66 + "😀", Encoding.UCS2, 68, 1, 2),
    ("x" * 69 + "😀", Encoding.UCS2, 71, 2, 63),
    ("x" * 66 + "😀" + "x" * 5, Encoding.UCS2, 73, 2, 60),
    ("price ` backtick", Encoding.UCS2, 16, 1, 54),
]


@pytest.mark.parametrize(("text", "encoding", "units", "parts", "remaining"), CASES)
def test_count(text: str, encoding: Encoding, units: int, parts: int, remaining: int) -> None:
    got = count(text)
    assert (got.encoding, got.units, got.segments, got.remaining) == (encoding, units, parts, remaining)


def test_split_keeps_every_chunk_within_the_budget_and_loses_nothing() -> None:
    text = " ".join(f"word{i}" for i in range(600))  # 4689 GSM characters; 3 segments hold 459
    chunks = split(text, 3)
    assert all(count(c).segments <= 3 for c in chunks)
    assert " ".join(chunks) == text
    assert len(chunks) == 11


def test_split_chinese_and_emoji() -> None:
    text = ("您的电费余额为123.45元😀" * 40)
    chunks = split(text, 2)
    assert all(count(c).segments <= 2 and count(c).encoding is Encoding.UCS2 for c in chunks)
    assert "".join(chunks) == text  # no spaces to break at: cut exactly, never inside a surrogate pair


def test_split_short_text_is_one_chunk() -> None:
    assert split("hello", 1) == ["hello"]
    assert split("", 3) == []
    with pytest.raises(ValueError):
        split("x", 0)


def test_js_tables_match_python() -> None:
    source = SMS_JS.read_text(encoding="utf-8")
    for name, table in (("GSM7_BASIC", segments.GSM7_BASIC), ("GSM7_EXTENSION", segments.GSM7_EXTENSION)):
        js = _js_string_constant(source, name)
        assert set(js) == set(table) and len(js) == len(table), name


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_js_counter_agrees_with_python() -> None:
    script = (f"import {{ countSegments }} from {json.dumps(SMS_JS.as_uri())};\n"
              f"const texts = {json.dumps([c[0] for c in CASES])};\n"
              "console.log(JSON.stringify(texts.map(countSegments)));\n")
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                          timeout=30, check=True)
    for (text, *_), js in zip(CASES, json.loads(done.stdout), strict=True):
        py = count(text)
        assert (js["encoding"], js["units"], js["segments"], js["remaining"]) == (
            py.encoding.value, py.units, py.segments, py.remaining), text


def _js_string_constant(source: str, name: str) -> str:
    """The value of ``export const NAME = '...' + '...';`` (single-quoted JS literals)."""
    start = source.index(f"export const {name} =")
    expression = source[start:source.index("';\n", start) + 1].split("=", 1)[1]
    value = ""
    for literal in expression.split("' +"):
        body = literal.strip().removeprefix("'").removesuffix("'")
        value += json.loads('"' + body.replace('"', '\\"').replace("\\'", "'") + '"')
    return value
