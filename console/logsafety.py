"""HTTP logging without secrets or personal data.

Channel callbacks carry both in their query strings (Kannel's get-url: the shared secret, the
customer's phone number and the SMS text), so the access log writes the path only, and
aiohttp's own report of a malformed request (which quotes the raw request line) is cut down to
the error's class. Every field is escaped (``printable``): a decoded path holds whatever the
client percent-encoded, and ``%0A`` must not start a forged log line.
"""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError


def printable(value: object) -> str:
    """``value`` as one log field: control characters, other non-printables, whitespace and the
    backslash become Python escapes (``\\n``, ``\\x20``, ``\\u2028``), so a field never ends a line or
    pretends to be the next field."""
    text = str(value)
    if text.isprintable() and " " not in text and "\\" not in text:
        return text
    return "".join(_escape(char) for char in text)


def _escape(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char.isprintable() and not char.isspace():
        return char
    escaped = char.encode("unicode_escape").decode("ascii")
    return escaped if escaped != char else f"\\x{ord(char):02x}"


class PathOnlyAccessLogger(AbstractAccessLogger):
    """``METHOD /path STATUS bytes seconds``: never the query string, the peer or the headers."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %s %.3f", printable(request.method), printable(request.path), response.status,
                         response.body_length, time)


class MalformedRequestFilter(logging.Filter):
    """Rewrites aiohttp's "Error handling request" record for a request it could not parse: the
    traceback would quote the raw request line (secrets, phone numbers) into the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], HttpProcessingError):
            error = record.exc_info[1]
            record.msg, record.args = "http.request.malformed status=%s error=%s", (
                printable(error.code), printable(type(error).__name__))
            record.exc_info, record.exc_text = None, None
        return True


def install_malformed_request_filter() -> None:
    """Idempotent: the filter is added to aiohttp's server logger once per process."""
    server_logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestFilter) for f in server_logger.filters):
        server_logger.addFilter(MalformedRequestFilter())
