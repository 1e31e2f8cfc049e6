"""Hostile input for the fuzz suite: each channel's valid structure with hostile content in any place.

Every field is drawn from its valid values most of the time and from ``json_values()`` (wrong types,
lone surrogates, NUL and control characters, huge integers, deep nesting, overlong strings)
otherwise, so examples get past the first checks of a parser and still break the later ones.
"""

from __future__ import annotations

import dataclasses
import encodings.aliases
import json
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from hypothesis import strategies as st

LONE_SURROGATE = st.characters(categories=["Cs"])
CONTROL = st.characters(categories=["Cc"])  # NUL included
ODD_TEXTS = ["", " ", "\x00", "\ud800", "\udfff", "\ud83d\ude00", "a\u202eb", "\ufeff", "\uffff", "\u2028",
             "-- ", "> quoted", "=?utf-8?q?x?=", "\r\n\r\n", "%00", "$where", "a.b", "\\"]
CHARSETS = sorted({*encodings.aliases.aliases.values(), "UTF-8", "UTF-16BE", "utf-7", "undefined", "idna",
                   "punycode", "8-BIT", "BINARY", "x-nonsense", "unicode_escape", "raw_unicode_escape", "rot13",
                   "base64", "hex", "uu", "zlib", "bz2", "", "utf-8-sig", "utf-32"})


@dataclass(frozen=True, slots=True)
class Raw:
    """A JSON fragment written as is: what ``json.dumps`` will not write (huge integers, deep nesting)."""

    text: str


def dump(value: Any) -> str:
    """JSON text of ``value``; strings with lone surrogates become ``\\ud800`` escapes (as a browser's
    ``JSON.stringify`` would send them), ``Raw`` fragments go in unchanged."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(dump(v) for v in value) + "]"
    return json.dumps(value)


def hostile_text(max_size: int = 30) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(max_size=max_size),
        st.text(st.one_of(st.characters(), LONE_SURROGATE, CONTROL), max_size=max_size),
        st.sampled_from(ODD_TEXTS),
        st.builds(lambda c, n: c * n, st.sampled_from(["a", "电", "\x00", "😀", " "]), st.integers(1000, 20_000)),
    )


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(2**63 - 2, 2**70), st.floats(), hostile_text(),
    st.integers(4300, 6000).map(lambda n: Raw("9" * n)),  # over Python's int-from-string limit
    st.integers(1, 3000).map(lambda n: Raw("[" * n + "]" * n)),  # around the parsers' nesting limit
    st.sampled_from([Raw("NaN"), Raw("-Infinity"), Raw("1e999"), Raw('"\\u0000"'), Raw('"\\ud800"'),
                     Raw('"\\udfff\\ud800"'), Raw("-0")]),
)


def json_values() -> st.SearchStrategy[Any]:
    return st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                        | st.dictionaries(hostile_text(8), inner, max_size=3), max_leaves=8)


def field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a valid value, sometimes anything at all."""
    return st.one_of(valid, valid, valid, json_values())


def obj(required: Mapping[str, st.SearchStrategy[Any]],
        optional: Mapping[str, st.SearchStrategy[Any]] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object with these fields (the optional ones maybe), sometimes an unknown one too."""
    extra = st.dictionaries(hostile_text(8), json_values(), max_size=1)
    return st.builds(lambda known, more: {**more, **known}, st.fixed_dictionaries(required, optional=optional or {}),
                     extra)


def document(structure: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """JSON text of ``structure``, or of any value, cut short, or no JSON at all."""
    whole = structure.map(dump)
    return st.one_of(whole, whole, whole, json_values().map(dump),
                     st.tuples(whole, st.integers(0, 200)).map(lambda t: t[0][:t[1]]), st.text(max_size=50))


# -- web chat --------------------------------------------------------------------------------------
CLIENT_ID = st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True)


def widget_frames() -> st.SearchStrategy[dict[str, Any]]:
    since = st.one_of(st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
                      st.datetimes().map(lambda d: d.isoformat()), hostile_text(45))
    visitor = st.none() | obj({}, {"id": field(st.from_regex(r"v_[A-Za-z0-9_-]{8,20}", fullmatch=True)),
                                   "token": field(st.text("0123456789abcdef", min_size=64, max_size=64))})
    return st.one_of(
        obj({"type": st.just("message")}, {"client_id": field(CLIENT_ID), "text": field(hostile_text()),
                                           "payload": field(hostile_text())}),
        obj({"type": st.just("hello")}, {"visitor": field(visitor), "since": field(since),
                                         "name": field(hostile_text()), "language": field(hostile_text(12))}),
        obj({"type": st.just("typing")}, {"active": json_values()}),
        obj({"type": st.sampled_from(["read", "delivered"])},
            {"message_ids": field(st.lists(st.text(max_size=70), max_size=4))}),
        obj({"type": json_values()}),
    )


# -- SMS (Kannel's callbacks) --------------------------------------------------------------------------
def _encoded(text: str, charset: str, cut: int) -> bytes:
    try:
        data = text.encode(charset, "surrogatepass")
    except (LookupError, UnicodeError, TypeError):
        data = text.encode("utf-8", "surrogatepass")
    return data[:len(data) - cut]  # an odd length for UTF-16 now and then


SMS_TEXT = st.one_of(
    st.binary(max_size=200),
    st.builds(_encoded, hostile_text(), st.sampled_from(["utf-8", "utf-16-be", "utf-7", "latin-1", "utf-32"]),
              st.integers(0, 1)),
    st.sampled_from([b"\x00", b"+2AA-", b"+2D3cAA-", b"\\ud800", b"xn--abc-", b"\xd8\x00", b"\xff\xfe"]),
)


def ascii_field(pattern: str) -> st.SearchStrategy[bytes]:
    """Mostly a valid value of the field (its regex), sometimes any bytes."""
    valid = st.from_regex(pattern, fullmatch=True).map(str.encode)
    return st.one_of(valid, valid, valid, st.binary(max_size=30), hostile_text(20).map(
        lambda t: t.encode("utf-8", "surrogatepass")))


def sms_fields(secret: str) -> st.SearchStrategy[dict[str, bytes]]:
    good_secret = st.just(secret.encode())
    return st.fixed_dictionaries(
        {"secret": st.one_of(good_secret, good_secret, good_secret, st.binary(max_size=40))},
        optional={"from": ascii_field(r"\+?[0-9]{2,20}"), "to": ascii_field(r"\+?[0-9]{2,20}"),
                  "text": SMS_TEXT, "coding": ascii_field(r"[0-2]"),
                  "charset": st.one_of(st.sampled_from(CHARSETS).map(str.encode), st.binary(max_size=20)),
                  "id": ascii_field(r"[A-Za-z0-9-]{1,64}"), "ref": ascii_field(r"[A-Za-z0-9_-]{1,64}"),
                  "status": ascii_field(r"[0-9]{1,3}")})


JUNK_PAIRS = st.sampled_from(["", "noequals", "%", "%zz", "+", "a=%", "=", "==", "text", "text=%F", "&&", "secret"])


def sms_queries(secret: str) -> st.SearchStrategy[str]:
    """A raw query string: the fields percent-encoded (some twice), with junk pairs mixed in."""
    def build(fields: dict[str, bytes], junk: list[str], at: int) -> str:
        pairs = [f"{name}={urllib.parse.quote_from_bytes(value, safe='+')}" for name, value in fields.items()]
        pairs[at % (len(pairs) + 1):at % (len(pairs) + 1)] = junk
        return "&".join(pairs)

    return st.builds(build, sms_fields(secret), st.lists(JUNK_PAIRS, max_size=2), st.integers(0, 10))


# -- e-mail -------------------------------------------------------------------------------------------
HEADER_BYTES = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
ENCODED_WORD = st.builds(
    lambda cs, enc, payload: b"=?" + cs.encode() + b"?" + enc + b"?" + payload + b"?=",
    st.sampled_from([*CHARSETS[:40], "utf-8", "utf-7", "x-unknown", "iso-2022-jp"]),
    st.sampled_from([b"b", b"q", b"B", b"x"]), st.sampled_from([b"!!!", b"5byg", b"=FF=FE", b"AAAA", b"", b"=ZZ"]))
HEADER_VALUE = st.one_of(st.text(max_size=40).map(lambda t: t.replace("\r", "").replace("\n", "").encode()),
                         HEADER_BYTES, ENCODED_WORD, st.just(b""))
ADDRESS = st.sampled_from([b"ann@example.test", b"zh\xffang@example.test", b"<>", b"not-an-address", b"a@b",
                           b"\"quoted\"@example.test", b"a@[127.0.0.1]", b"ANN@Example.TEST", b"@", b""])
CTE = st.sampled_from([b"7bit", b"8bit", b"base64", b"quoted-printable", b"x-junk", b"binary"])
BODY = st.one_of(st.binary(max_size=200), st.sampled_from([b"!!!!not base64!!!!", b"=ZZ=\r\n", b"aGVsbG8=",
                                                           b"-- \r\nsig", b"> quoted\r\nnew", b"<p>hi<script>x"]))


def _part(ctype: bytes, charset: bytes, cte: bytes, body: bytes, filename: bytes | None) -> bytes:
    head = b"Content-Type: " + ctype + b"; charset=" + charset
    if filename is not None:
        head += b"\r\nContent-Disposition: attachment; filename*=" + filename
    return head + b"\r\nContent-Transfer-Encoding: " + cte + b"\r\n\r\n" + body


PART = st.builds(_part, st.sampled_from([b"text/plain", b"text/html", b"application/pdf", b"message/rfc822",
                                         b"image/jpeg", b"multipart/mixed", b"text/x-junk", b"", b"/"]),
                 st.sampled_from([c.encode() for c in CHARSETS[:60]] + [b"utf-7", b"x-nonsense", b"\xff"]),
                 CTE, BODY, st.none() | st.sampled_from([b"utf-8''%E7%94%B5.pdf", b"bogus''%FF%FE", b"''",
                                                         b"x''../../etc/passwd", b"utf-8''%00"]))


def _multipart(declared: bytes, used: bytes, parts: list[bytes], closed: bool) -> bytes:
    head = b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"" + declared + b"\"\r\n\r\npreamble\r\n"
    body = b"".join(b"--" + used + b"\r\n" + part + b"\r\n" for part in parts)
    return head + body + (b"--" + used + b"--\r\n" if closed else b"")


BOUNDARY = st.sampled_from([b"b1", b"b2", b"", b"\xff", b"a" * 80])
MIME_BODY = st.one_of(PART, st.builds(_multipart, BOUNDARY, BOUNDARY, st.lists(PART, max_size=3), st.booleans()))


def emails() -> st.SearchStrategy[bytes]:
    """Raw messages: headers with 8-bit bytes and broken encoded words, bodies with broken boundaries,
    charsets and transfer encodings; sometimes bare ``\\n`` line ends or plain garbage."""
    def build(sender: bytes | None, name: bytes, headers: dict[bytes, bytes], body: bytes, bare_lf: bool) -> bytes:
        lines = [] if sender is None else [b"From: " + name + b" <" + sender + b">"]
        lines += [key + b": " + value for key, value in headers.items()]
        raw = b"\r\n".join(lines) + b"\r\n" + body
        return raw.replace(b"\r\n", b"\n") if bare_lf else raw

    headers = st.fixed_dictionaries({}, optional={
        b"Subject": HEADER_VALUE, b"Message-ID": st.sampled_from([b"<m1@example.test>", b"<>", b"<a b>", b"x"]),
        b"In-Reply-To": HEADER_VALUE, b"References": HEADER_VALUE, b"To": HEADER_VALUE,
        b"Auto-Submitted": st.sampled_from([b"no", b"auto-replied", b"\xff"]), b"Return-Path": st.just(b"<>"),
        b"Reply-To": HEADER_VALUE})
    message = st.builds(build, st.none() | ADDRESS, HEADER_VALUE, headers, MIME_BODY, st.booleans())
    return st.one_of(message, message, message, st.binary(max_size=300))


# -- Telegram -------------------------------------------------------------------------------------------
TG_ID = st.integers(1, 10**10)


def _user() -> st.SearchStrategy[dict[str, Any]]:
    return obj({"id": field(TG_ID), "is_bot": field(st.just(False)), "first_name": field(hostile_text())},
               {"last_name": field(hostile_text())})


def _message(keyboard: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    chat = obj({"id": field(TG_ID), "type": field(st.sampled_from(["private", "group", "channel"]))})
    photo = obj({"file_id": field(st.text("abcXYZ_-", min_size=1, max_size=20)), "file_unique_id": field(st.just("u1")),
                 "width": field(st.integers(1, 5000)), "height": field(st.integers(1, 5000))},
                {"file_size": field(st.integers(1, 50 * 2**20))})
    document = obj({"file_id": field(st.just("doc1")), "file_unique_id": field(st.just("u2"))},
                   {"file_name": field(hostile_text()), "mime_type": field(hostile_text()),
                    "file_size": field(st.integers(1, 50 * 2**20))})
    optional: dict[str, st.SearchStrategy[Any]] = {
        "from": field(_user()), "text": field(hostile_text()), "caption": field(hostile_text()),
        "photo": field(st.lists(photo, max_size=2)), "document": field(document),
        "sticker": field(st.just({"file_id": "s", "file_unique_id": "s", "width": 1, "height": 1,
                                  "is_animated": False, "is_video": False, "type": "regular"})),
        "reply_to_message": st.integers(1, 600).map(replies)}
    if keyboard:
        button = obj({"text": field(hostile_text()), "callback_data": field(hostile_text())})
        optional["reply_markup"] = field(obj({"inline_keyboard": field(st.lists(st.lists(button, max_size=2),
                                                                                 max_size=2))}))
    return obj({"message_id": field(st.integers(1, 2**31)), "date": field(st.integers(0, 2**32)),
                "chat": field(chat)}, optional)


def replies(depth: int) -> dict[str, Any]:
    """A reply_to_message chain ``depth`` deep (Telegram nests one level)."""
    message: dict[str, Any] = {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "text": "a"}
    for _ in range(depth):
        message = {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "reply_to_message": message}
    return message


def telegram_updates() -> st.SearchStrategy[dict[str, Any]]:
    callback = obj({"id": field(st.text("0123456789", min_size=1, max_size=12)), "from": field(_user()),
                    "chat_instance": st.just("ci")}, {"data": field(hostile_text()), "message": _message(True)})
    return obj({"update_id": field(st.integers(0, 2**40))},
               {"message": field(_message()), "edited_message": field(_message()), "callback_query": field(callback)})


def telegram_bodies() -> st.SearchStrategy[bytes]:
    """Webhook bodies: JSON updates as Telegram would send them (UTF-8), broken ones, invalid UTF-8."""
    as_json = document(telegram_updates()).map(lambda t: t.encode("utf-8", "surrogatepass"))
    return st.one_of(as_json, as_json, as_json, st.binary(max_size=100),
                     st.tuples(as_json, st.binary(min_size=1, max_size=4)).map(lambda t: t[0][:-1] + t[1]))


# -- the console ---------------------------------------------------------------------------------------
def console_bodies(fields: Mapping[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[bytes]:
    """Request bodies for a console call with these fields: JSON (UTF-8), broken JSON, invalid UTF-8."""
    text = document(obj({}, {name: field(valid) for name, valid in fields.items()}))
    as_bytes = text.map(lambda t: t.encode("utf-8", "surrogatepass"))
    return st.one_of(as_bytes, as_bytes, as_bytes, st.binary(max_size=60),
                     st.sampled_from([b"{" * 70_000, b"\xff\xfe{}", b"", b"null", b"[]", b"\"x\""]))


# -- what a parser returned -------------------------------------------------------------------------------
def strings_in(value: Any) -> Iterator[str]:
    """Every string in a parser's result: dataclass fields, mapping keys and values, sequences."""
    if isinstance(value, str):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from strings_in(getattr(value, item.name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings_in(key)
            yield from strings_in(item)
    elif isinstance(value, list | tuple | frozenset | set):
        for item in value:
            yield from strings_in(item)
