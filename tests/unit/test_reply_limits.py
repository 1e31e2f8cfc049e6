"""Per-channel reply limits (hub/domain/reply_limits.py, ADR 0046): each channel's limit in its own
unit, the refusal's words, and the console's counter (reply_limit.js) agreeing with the server."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from channels.sms.channel import segment_limit
from hub.domain.reply_limits import DEFAULT_LIMIT, LengthUnit, ReplyLimit, characters, utf16_units

REPLY_LIMIT_JS = Path(__file__).resolve().parents[2] / "console" / "static" / "console" / "reply_limit.js"
TEXTS = ["", "hello", "电" * 71, "a" * 161, "😀" * 3, "Price: 5€ " * 40, "a" * 4001, "您好" * 400]


def test_characters_count_code_points_and_utf16_counts_units() -> None:
    assert characters(5).size("😀😀") == 2
    assert utf16_units(5).size("😀😀") == 4
    assert characters(3).refusal("abc", "webchat") is None
    refusal = characters(3).refusal("abcd", "webchat")
    assert refusal == "the reply is 4 characters long; webchat takes at most 3 characters: shorten it"


def test_sms_counts_segments_as_billed() -> None:
    limit = segment_limit(2)
    assert limit.unit is LengthUnit.SMS_SEGMENTS
    assert limit.size("a" * 160) == 1 and limit.size("a" * 161) == 2 and limit.size("电" * 71) == 2
    assert limit.refusal("a" * 306, "sms") is None
    assert limit.refusal("a" * 307, "sms") == (
        "the reply is 3 SMS segments long; sms takes at most 2 SMS segments: shorten it")
    assert limit.to_json() == {"unit": "sms_segments", "max": 2}


def test_a_limit_is_positive_and_segments_need_a_counter() -> None:
    with pytest.raises(ValueError):
        characters(0)
    with pytest.raises(ValueError):
        ReplyLimit(unit=LengthUnit.SMS_SEGMENTS, maximum=3)
    assert DEFAULT_LIMIT.to_json() == {"unit": "characters", "max": 4000}


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_console_counts_like_the_server() -> None:
    limits = {"characters": characters(4000), "utf16": utf16_units(4096), "sms_segments": segment_limit(10)}
    script = (f"import {{ lengthState }} from {json.dumps(REPLY_LIMIT_JS.as_uri())};\n"
              f"const texts = {json.dumps(TEXTS)};\n"
              f"const limits = {json.dumps({k: v.to_json() for k, v in limits.items()})};\n"
              "const out = {};\n"
              "for (const [k, l] of Object.entries(limits)) out[k] = texts.map((t) => lengthState(t, l, 'x'));\n"
              "console.log(JSON.stringify(out));\n")
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                          timeout=30, check=True)
    answers = json.loads(done.stdout)
    for unit, limit in limits.items():
        for text, js in zip(TEXTS, answers[unit], strict=True):
            assert (js["size"], js["over"]) == (limit.size(text), limit.refusal(text, "x") is not None), (unit, text)
