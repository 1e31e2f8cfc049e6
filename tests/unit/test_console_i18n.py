"""The console in Chinese and English (issue 16 item 9, ADR 0048): both dictionaries hold the same
keys with the same placeholders and valid plural forms; every key the pages and modules use
exists; translated HTML pages carry no text outside a data-i18n element; translated modules set
no English literal as text; t() picks plural forms and fills placeholders (under node)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest

STATIC = Path(__file__).resolve().parents[2] / "console" / "static" / "console"
PLURAL_CATEGORIES = {"zero", "one", "two", "few", "many", "other"}

# Every page and module of the console (a new one is checked as soon as it exists).
PAGES = sorted(p.name for p in STATIC.glob("*.html"))
MODULES = sorted(p.name for p in STATIC.glob("*.js"))
# Literals that are not the console's words: the brand, language names in their own language,
# key names and HTTP header names.
NOT_WORDS = {"Northgrid Hub", "English", "Enter", "Escape", "Esc", "Tab", "ArrowDown", "ArrowUp", "Slash",
             "ApiError", "Content-Type", "X-CSRF-Token", "X-Console-Socket", "${kind}Count", "noopener noreferrer",
             "num better", "num worse", "num cell-wait", "num cell-in-state",
             "Alt+${s.key === '/' ? '/' : s.key.toUpperCase()}"}
KEY_CODE = re.compile(r"Key[A-Z]")


def dictionary(language: str) -> dict[str, Any]:
    text = (STATIC / "i18n" / f"{language}.js").read_text(encoding="utf-8")
    assert text.startswith("export default {") and text.rstrip().endswith("};"), "plain JSON behind export default"
    parsed: dict[str, Any] = json.loads(text[text.index("{"):text.rindex("}") + 1])
    return parsed


EN, ZH = dictionary("en"), dictionary("zh")


def forms(value: Any) -> list[str]:
    return list(value.values()) if isinstance(value, dict) else [value]


def placeholders(value: Any) -> set[str]:
    return {name for form in forms(value) for name in re.findall(r"\{(\w+)\}", form)}


def test_both_dictionaries_hold_the_same_keys() -> None:
    assert set(EN) - set(ZH) == set(), "missing in Chinese"
    assert set(ZH) - set(EN) == set(), "missing in English"
    assert len(EN) > 100


@pytest.mark.parametrize("key", sorted(EN))
def test_each_text_has_the_same_placeholders_and_valid_plural_forms(key: str) -> None:
    for value in (EN[key], ZH[key]):
        if isinstance(value, dict):
            assert "other" in value and set(value) <= PLURAL_CATEGORIES, value
            assert "{count}" in "".join(value.values()), "a plural text shows its count"
        for form in forms(value):
            assert isinstance(form, str) and form.strip(), value
            assert "<" not in form, "texts are set as text: markup would show as is"
    assert placeholders(EN[key]) == placeholders(ZH[key])


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in STATIC.glob("*.js"):
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\b(?:t|tr|tt|hasText)\(\s*'([a-z_]+\.[a-z0-9_.]+)'""", text))
    for path in STATIC.glob("*.html"):
        text = path.read_text(encoding="utf-8")
        keys |= set(re.findall(r'data-i18n="([^"]+)"', text))
        for pairs in re.findall(r'data-i18n-attr="([^"]+)"', text):
            keys |= {pair.split(":")[1].strip() for pair in pairs.split(";")}
    return keys


def test_every_key_in_use_exists() -> None:
    keys = used_keys()
    assert len(keys) > 100
    assert sorted(keys - set(EN)) == []


class TextOutsideI18n(HTMLParser):
    """Text nodes with letters that no data-i18n element (or <script>/<style>) holds."""

    VOID: ClassVar[set[str]] = {"meta", "link", "input", "br", "img", "hr", "source", "col", "area", "base", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for attr in ("aria-label", "title", "placeholder", "alt"):
            value = names.get(attr)
            if value and re.search(r"[A-Za-z]{2}", value) and f"{attr}:" not in (names.get("data-i18n-attr") or ""):
                self.found.append(f"<{tag} {attr}={value!r}>")
        if tag not in self.VOID:
            held = "data-i18n" in names or tag in ("script", "style")
            self.stack.append((tag, held or any(h for _, h in self.stack)))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        text = " ".join(html.unescape(data).split())
        inside = bool(self.stack) and self.stack[-1][1]
        if re.search(r"[A-Za-z]{2}", text) and not inside and text not in NOT_WORDS:
            self.found.append(text)


@pytest.mark.parametrize("page", PAGES)
def test_a_translated_page_has_no_text_outside_data_i18n(page: str) -> None:
    parser = TextOutsideI18n()
    parser.feed((STATIC / page).read_text(encoding="utf-8"))
    assert parser.found == []


LITERAL = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`""")
ENGLISH = re.compile(r"[A-Za-z]{2,}[,.:;!?…]?\s+[A-Za-z]{2,}|^[A-Z][a-z]{2,}|\b[A-Z][a-z]+\b(?=[ .…:?!]|$)")
NOT_TEXT_LINE = re.compile(r"^\s*(//|\*|/\*)|\bimport\b|querySelector|console\.(log|warn|error)|addEventListener\(")
NOT_TEXT_BEFORE = re.compile(r"\b(?:t|tr|tt|hasText)\(\s*$|class(?:Name)?\s*[:=]\s*$|'data-testid':\s*$|"
                             r"\.(?:add|remove|toggle|contains)\(\s*$")


def english_literals(path: Path) -> list[str]:
    """String literals with English words, outside comments, keys, classes, test ids and paths."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if NOT_TEXT_LINE.search(line):
            continue
        code = re.sub(r"\s//\s.*$", "", line)
        for match in LITERAL.finditer(code):
            literal = match.group(0)[1:-1]
            if NOT_TEXT_BEFORE.search(code[:match.start()]) or literal in NOT_WORDS or KEY_CODE.fullmatch(literal):
                continue
            words = re.sub(r"\$\{[^}]*\}", " ", literal)
            template_words = match.group(0)[0] == "`" and re.search(r"(?:^|\s)[A-Za-z]{3,}(?:\s|$)", words)
            if not literal.startswith(("/", ".", "#", "http")) and (ENGLISH.search(words) or template_words):
                found.append(f"{path.name}:{number}: {literal}")
    return found


@pytest.mark.parametrize("module", MODULES)
def test_a_translated_module_sets_no_english_literal(module: str) -> None:
    assert english_literals(STATIC / module) == []


def test_the_scan_finds_english_where_there_is_some(tmp_path: Path) -> None:
    sample = tmp_path / "sample.js"
    sample.write_text("el.textContent = 'Nothing assigned to you.';\nh('button', { text: 'Send' });\n"
                      "toast(`Offered to ${name}`);\nh('span', { class: 'conv-name' }, t('inbox.offer'));\n")
    assert [line.split(": ", 1)[1] for line in english_literals(sample)] == [
        "Nothing assigned to you.", "Send", "Offered to ${name}"]
    parser = TextOutsideI18n()
    parser.feed('<p>Hello there</p><p data-i18n="x.y">Hi you</p><button aria-label="Close it"></button>')
    assert parser.found == ["Hello there", "<button aria-label='Close it'>"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_t_picks_plural_forms_fills_placeholders_and_falls_back() -> None:
    script = (f"import * as m from {json.dumps((STATIC / 'i18n.js').as_uri())};\n"
              "const out = {};\n"
              "m.setLanguage('en');\n"
              "out.one = m.t('inbox.unread_count', { count: 1 });\n"
              "out.many = m.t('inbox.unread_count', { count: 1200 });\n"
              "out.missing = m.t('no.such_key');\n"
              "out.unfilled = m.t('snooze.until', {});\n"
              "out.xss = m.t('snooze.woken', { name: '<b>x</b>' });\n"
              "m.setLanguage('zh');\n"
              "out.zh = m.t('inbox.unread_count', { count: 3 });\n"
              "out.bad = m.setLanguage('fr');\n"
              "out.lang = m.language();\n"
              "out.of = ['zh-Hant-TW', 'en-US', 'fr', ''].map(m.languageOf);\n"
              "console.log(JSON.stringify(out));\n")
    done = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                          timeout=30, check=True)
    assert json.loads(done.stdout) == {
        "one": "1 unread", "many": "1,200 unread", "missing": "no.such_key",
        "unfilled": "Snoozed until {time}", "xss": "Back from snooze: <b>x</b>",  # text, never markup
        "zh": "3 条未读", "bad": False, "lang": "zh", "of": ["zh", "en", None, None]}
