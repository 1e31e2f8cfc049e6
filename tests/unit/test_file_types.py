"""Which files an agent may send (hub/domain/file_types.py): the type from the bytes, never the name."""

from __future__ import annotations

import random

import pytest

from hub.domain.file_types import MAX_FILENAME, MAX_UPLOAD_BYTES, FileCheck, check_upload, safe_filename, sniff

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "


@pytest.mark.parametrize(("data", "kind"), [
    (PNG, "image/png"), (JPEG, "image/jpeg"), (b"GIF89a\x01\x00", "image/gif"), (WEBP, "image/webp"),
    (PDF, "application/pdf"), ("电费账单\nAccount 3100456789\n".encode(), "text/plain"),
])
def test_allowed_types_are_recognised_by_their_bytes(data: bytes, kind: str) -> None:
    assert sniff(data) == kind


@pytest.mark.parametrize("data", [
    b"<html><script>alert(1)</script>", b"\xef\xbb\xbf  <svg onload=alert(1)>", b"<?xml version='1.0'?>",
    b"#!/bin/sh\nrm -rf /", b"MZ\x90\x00\x03", b"\x7fELF\x02\x01", b"PK\x03\x04 (a zip, docx or xlsx)",
    b"text with a \x00 NUL", b"\xff\xfe not UTF-8", b"bell \x07 in text", b"",
])
def test_anything_else_is_refused(data: bytes) -> None:
    assert sniff(data) is None
    assert isinstance(check_upload("file.txt", data), str)


def test_the_name_never_decides() -> None:
    assert check_upload("invoice.pdf", b"<html>not a pdf</html>") == (
        "only PNG, JPEG, GIF and WebP images, PDF documents and plain UTF-8 text files can be sent")
    assert check_upload("photo.exe", PNG) == FileCheck(content_type="image/png", filename="photo.exe.png")
    assert check_upload("电费账单.pdf", PDF) == FileCheck(content_type="application/pdf", filename="电费账单.pdf")


def test_size_limits() -> None:
    assert check_upload("big.txt", b"a" * (MAX_UPLOAD_BYTES + 1)) == "the file is over 5 MB"
    assert isinstance(check_upload("ok.txt", b"a" * MAX_UPLOAD_BYTES), FileCheck)
    assert check_upload("empty.txt", b"") == "the file is empty"


@pytest.mark.parametrize(("name", "expected"), [
    ("../../etc/passwd", "passwd.txt"), ("C:\\Users\\x\\bill.txt", "bill.txt"), ("a\x00b\nc.txt", "a_b_c.txt"),
    ("evil\u202etxt.exe", "evil_txt.exe.txt"), ("...", "file.txt"), ("", "file.txt"),
])
def test_file_names_are_made_safe(name: str, expected: str) -> None:
    assert safe_filename(name, "text/plain") == expected


def test_fuzz_random_bytes_and_names() -> None:
    rng = random.Random(16)
    for _ in range(2000):
        data = rng.randbytes(rng.randint(0, 64))
        name = "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 300)))
        result = check_upload(name, data)
        if isinstance(result, FileCheck):
            assert result.content_type == sniff(data)
            assert len(result.filename) <= MAX_FILENAME and "/" not in result.filename
            assert not any(ord(c) < 32 for c in result.filename)


def test_signed_links_name_one_file_until_they_expire() -> None:
    from datetime import UTC, datetime, timedelta

    from hub.domain.file_links import LINK_TTL, link_path, link_valid

    now = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)
    path = link_path(b"k", "a_1", now)
    expires, sig = path.split("?e=")[1].split("&s=")
    assert path.startswith("/files/a_1?e=")
    assert link_valid(b"k", "a_1", expires, sig, now + LINK_TTL - timedelta(seconds=1))
    assert not link_valid(b"k", "a_1", expires, sig, now + LINK_TTL + timedelta(seconds=1))  # expired
    assert not link_valid(b"k", "a_2", expires, sig, now)  # another file
    assert not link_valid(b"other", "a_1", expires, sig, now)  # another hub's key
    assert not link_valid(b"k", "a_1", str(int(expires) + 1), sig, now)  # a longer life
    assert not link_valid(b"k", "a_1", "x", sig, now) and not link_valid(b"k", "a_1", expires, "电", now)
