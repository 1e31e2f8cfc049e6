"""Which files an agent may send, pure (issue 16 item 4): the type comes from the file's first bytes
(content sniffing), never from its name or the browser's declared type, and must be on a short list
of types every channel's customers can open without running anything.

``sniff`` answers the content type, or None for anything else (HTML, SVG, scripts, executables,
archives, office documents with macros): the caller refuses those with 415.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote

from hub.domain.text import repair

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # under the attachment store's 10 MB and most mail servers' limits
MAX_FILENAME = 120

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
)
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
              "application/pdf": ".pdf", "text/plain": ".txt"}
ALLOWED = frozenset(EXTENSIONS)
IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})  # what the timeline previews inline
_TEXT_SAMPLE = 4096
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True, kw_only=True)
class FileCheck:
    """A file accepted for sending: its sniffed type and a safe name ending in that type's extension."""

    content_type: str
    filename: str


def sniff(data: bytes) -> str | None:
    """The content type ``data`` really is, if it is one of ``ALLOWED``; None otherwise."""
    for magic, offset, kind in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return "text/plain" if _is_plain_text(data) else None


def _is_plain_text(data: bytes) -> bool:
    """UTF-8 text without NULs or control characters other than tab and line breaks, and not markup a
    browser would run (HTML, SVG, XML) nor a script's shebang."""
    if not data or b"\x00" in data:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    head = text[:_TEXT_SAMPLE].lstrip("\ufeff \t\r\n").lower()
    if head.startswith(("<", "#!")):
        return False
    return all(c in "\t\r\n" or unicodedata.category(c) != "Cc" for c in text[:_TEXT_SAMPLE])


def safe_filename(name: str, content_type: str) -> str:
    """``name`` without path parts, control or bidi-override characters, at most ``MAX_FILENAME``
    characters, ending in the sniffed type's extension (a "bill.pdf.exe" that is a PDF is sent as
    "bill.pdf.exe.pdf")."""
    base = repair(name).replace("\\", "/").rsplit("/", 1)[-1]  # a lone surrogate (bad UTF-8 in a header) -> U+FFFD
    base = _UNSAFE_NAME.sub("_", unicodedata.normalize("NFC", base)).strip(" .") or "file"
    extension = EXTENSIONS[content_type]
    if content_type == "image/jpeg" and base.lower().endswith(".jpeg"):
        extension = ".jpeg"
    stem = base if base.lower().endswith(extension) else base + extension
    if len(stem) > MAX_FILENAME:
        stem = stem[:MAX_FILENAME - len(extension)] + extension
    return stem


ACTIVE_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml",
                "text/javascript", "application/javascript")
_SAFE_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")


def download_type(content_type: str) -> str:
    """The Content-Type a download is served with: types a browser would run become opaque bytes."""
    kind = content_type.strip().lower()
    if not _SAFE_TYPE.match(kind) or kind in ACTIVE_TYPES:
        return "application/octet-stream"
    return kind


def disposition(filename: str) -> str:
    """RFC 6266: an ASCII fallback name plus the UTF-8 name (Chinese file names survive)."""
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:100] or "attachment"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def check_upload(name: str, data: bytes) -> FileCheck | str:
    """The accepted file, or why not (a sentence for a 4xx: 413 when too large, 415 otherwise)."""
    if len(data) > MAX_UPLOAD_BYTES:
        return f"the file is over {MAX_UPLOAD_BYTES // (1024 * 1024)} MB"
    if not data:
        return "the file is empty"
    kind = sniff(data)
    if kind is None:
        return "only PNG, JPEG, GIF and WebP images, PDF documents and plain UTF-8 text files can be sent"
    return FileCheck(content_type=kind, filename=safe_filename(name, kind))
