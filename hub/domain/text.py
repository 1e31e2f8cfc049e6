"""Text the hub accepts: valid Unicode only (pure; every parser at the edge asks this module).

A Python ``str`` can hold lone surrogates (``"\\ud800"``), which JSON's ``\\u`` escapes, Python's
``surrogateescape`` decoding and some MIME decoders produce. They are not Unicode scalar values:
UTF-8 cannot encode them, so MongoDB's driver, Redis and every browser would fail on them later,
far from the customer who sent them. The edge refuses them with a clear error instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hub.errors import InvalidText

SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # JSON's spelling of U+D800..U+DFFF


def is_valid_unicode(text: str) -> bool:
    """True when ``text`` is a sequence of Unicode scalar values (UTF-8 can encode it)."""
    return SURROGATE.search(text) is None


def json_may_hold_surrogates(raw: str) -> bool:
    """False when the JSON text ``raw`` cannot decode to a lone surrogate: it holds none itself and
    spells none with a ``\\u`` escape (a pair's halves count: conservative). Lets a parser skip
    walking the decoded value (``invalid_text_path``) for the frames nearly all of which are plain
    text: one scan of the text in C instead of a path built per key and list item (ADR 0069)."""
    return SURROGATE_ESCAPE.search(raw) is not None or SURROGATE.search(raw) is not None


def _all_valid(value: Any) -> bool:
    """``invalid_text_path(value) is None`` without building a path per key and item (the usual
    answer); a loop over a stack, so that no nesting the JSON decoder accepts can exhaust recursion."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not is_valid_unicode(item):
                return False
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                if isinstance(key, str) and not is_valid_unicode(key):
                    return False
                stack.append(inner)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return True


def invalid_text_path(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string (key or value) in a JSON-like value that is not valid
    Unicode, ``"(root)"`` for the value itself; None when all of it is valid."""
    if not path and _all_valid(value):
        return None  # the path is built only for what is refused
    if isinstance(value, str):
        return None if is_valid_unicode(value) else (path or "(root)")
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and not is_valid_unicode(key):
                return (path + "." if path else "") + "(key)"
            found = invalid_text_path(item, where)
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = invalid_text_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def require_valid_text(what: str, value: Any) -> None:
    """Raise ``InvalidText`` naming ``what`` (and the path inside it) when any text in ``value`` is
    not valid Unicode; the error never quotes the text itself."""
    found = invalid_text_path(value)
    if found is not None:
        where = what if found == "(root)" else f"{what}.{found}"
        raise InvalidText(f"{where} is not valid Unicode (it holds a lone surrogate)")


def repair(text: str) -> str:
    """Replace every lone surrogate by U+FFFD (for text we must keep, e.g. an e-mail's body)."""
    return SURROGATE.sub("\ufffd", text)
