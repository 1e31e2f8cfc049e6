"""Pure text decisions on an e-mail body: HTML to plain text (sanitised with nh3) and quote folding.

What the agent should read first is the customer's new text; the quoted history of earlier mails
and the signature are folded into a separate field (``Folded.quoted``), never thrown away.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import nh3

# Tags whose text we keep (everything else is dropped by nh3 with its content kept, except the
# content of script/style, which nh3 removes entirely).
KEPT_TAGS = {"p", "div", "br", "li", "ul", "ol", "blockquote", "tr", "td", "th", "table", "h1", "h2", "h3",
             "h4", "h5", "h6", "pre", "hr"}
BLOCK_TAGS = KEPT_TAGS - {"br", "td", "th"}
TAG = re.compile(r"<(/?)([a-z0-9]+)[^>]*>", re.IGNORECASE)

SIGNATURE = re.compile(r"^-- ?$")
# "On Mon, 1 Jan 2026 at 10:00, Ann <ann@example.org> wrote:", and the usual translations.
ATTRIBUTION = re.compile(
    r"^(le\b.*\ba écrit\s*:|在.*写道[:\uff1a]?|.*\b(wrote|schrieb|escribió)\s*:?)\s*$",
    re.IGNORECASE)
SEPARATOR = re.compile(
    r"^(-{2,}\s*(original message|forwarded message|原始邮件|ursprüngliche nachricht)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE)
HEADER_BLOCK = re.compile(r"^(from|von|发件人|de)\s*[:\uff1a]\s*\S", re.IGNORECASE)
MOBILE_FOOTER = re.compile(r"^(sent from my \w+|从我的.*发送|get outlook for \w+)", re.IGNORECASE)
MAX_QUOTED_CHARS = 20_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Folded:
    """``text``: what the customer wrote now; ``quoted``: history and signature, folded away."""

    text: str
    quoted: str


def html_to_text(markup: str) -> str:
    """Sanitise with nh3 (scripts, styles, event handlers and unknown tags go), then render the
    remaining structure as text: blocks become lines, ``<blockquote>`` becomes ``> `` lines."""
    clean = nh3.clean(markup, tags=KEPT_TAGS, attributes={}, strip_comments=True)
    lines: list[str] = []
    current: list[str] = []
    depth = 0
    position = 0

    def flush() -> None:
        line = re.sub(r"[ \t\r\n\xa0]+", " ", html.unescape("".join(current))).strip()
        current.clear()
        if line or (lines and lines[-1]):
            lines.append("> " * depth + line if line else "")

    for match in TAG.finditer(clean):
        current.append(clean[position:match.start()])
        position = match.end()
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name == "br" or name in BLOCK_TAGS:
            flush()
        if name == "blockquote":
            depth = max(0, depth - 1) if closing else depth + 1
        elif name in ("td", "th") and not closing:
            current.append(" ")
    current.append(clean[position:])
    flush()
    return "\n".join(lines).strip()


def fold(body: str) -> Folded:
    """Split a plain-text body into the new text and the folded history/signature.

    The cut is the first of: a signature delimiter (``-- ``), an attribution line followed by
    quoted lines, an "Original Message" separator or an Outlook header block, the first quoted
    (``>``) line. When nothing is left above the cut (a reply written between quotes), the new
    text is every unquoted line instead."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _cut(lines)
    text = "\n".join(lines[:cut]).strip()
    quoted = "\n".join(lines[cut:]).strip()
    if not text and quoted:
        text = "\n".join(line for line in lines if not line.lstrip().startswith(">")
                         and not ATTRIBUTION.match(line.strip())).strip()
    return Folded(text=text, quoted=quoted[:MAX_QUOTED_CHARS])


def _cut(lines: list[str]) -> int:
    for index, raw in enumerate(lines):
        line = raw.strip()
        if SIGNATURE.match(raw.rstrip("\n")) or SEPARATOR.match(line) or MOBILE_FOOTER.match(line):
            return index
        if line.startswith(">"):
            return index
        if ATTRIBUTION.match(line) and _quote_follows(lines, index + 1):
            return index
        if HEADER_BLOCK.match(line) and _looks_like_header_block(lines, index):
            return index
    return len(lines)


def _quote_follows(lines: list[str], start: int) -> bool:
    following = [line.strip() for line in lines[start:start + 3] if line.strip()]
    return bool(following) and following[0].startswith(">")


def _looks_like_header_block(lines: list[str], start: int) -> bool:
    """Outlook's quoted header: From:, then Sent:/Date:/To:/Subject: lines right after."""
    block = " ".join(line.strip().lower() for line in lines[start + 1:start + 4])
    return any(key in block for key in ("sent:", "date:", "subject:", "发送时间", "主题", "gesendet:"))
