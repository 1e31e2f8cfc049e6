"""The supervisors' side of call quality: rule sets per queue, flagged calls, reviews, search.

Role checks are the caller's (console/qa_api.py: supervisors and admins); this service validates
what is stored (hub.domain.quality's rules, a review's score against the rules that fired) and
raises ``InvalidInput`` with every problem named, ``NotFound`` for an unknown recording.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol

from hub.clock import Clock
from hub.domain.quality import Rule, RuleSet, rule_set_problems
from hub.domain.text import require_valid_text
from hub.errors import InvalidInput, NotFound
from hub.storage.database import Document

QUEUE_KEY = re.compile(r"^(\*|[A-Za-z0-9][A-Za-z0-9_-]{0,63})$")
MAX_NOTE = 2000


class QualityStore(Protocol):
    async def rule_sets(self) -> dict[str, RuleSet]: ...

    async def put_rule_set(self, rules: RuleSet, *, by: str, at: Any) -> None: ...

    async def delete_rule_set(self, queue: str) -> bool: ...

    async def flagged(self, *, unreviewed: bool, limit: int = ...) -> list[Document]: ...

    async def search(self, text: str, limit: int = ...) -> list[Document]: ...

    async def result(self, recording: str) -> Document | None: ...

    async def results_of(self, conversation_id: str) -> list[Document]: ...

    async def review(self, recording: str, review: dict[str, Any]) -> Document | None: ...

    async def job_counts(self) -> dict[str, int]: ...


def transcript_lines(result: Document, gap_ms: int = 1500) -> list[dict[str, Any]]:
    """A stored result's words as lines of the timeline: one per speaker's run of words, a new line
    after a pause of ``gap_ms``; in time order."""
    words = sorted(((w[1], w[2], speaker, w[0]) for speaker, leg in (result.get("legs") or {}).items()
                    for w in leg.get("words", [])), key=lambda w: (w[0], w[2]))
    lines: list[dict[str, Any]] = []
    for start, end, speaker, text in words:
        last = lines[-1] if lines else None
        if last is not None and last["speaker"] == speaker and start - last["end_ms"] <= gap_ms:
            last["text"] += f" {text}"
            last["end_ms"] = end
        else:
            lines.append({"speaker": speaker, "start_ms": start, "end_ms": end, "text": text})
    return lines


class QualityDesk:
    def __init__(self, store: QualityStore, clock: Clock) -> None:
        self.store = store
        self._clock = clock

    async def put_rules(self, queue: str, rules: Sequence[Rule], *, by: str) -> RuleSet:
        if not QUEUE_KEY.match(queue):
            raise InvalidInput("queue: a queue id or * (every queue without its own rules)")
        problems = rule_set_problems(rules)
        if problems:
            raise InvalidInput("; ".join(problems))
        rule_set = RuleSet(queue=queue, rules=tuple(rules))
        await self.store.put_rule_set(rule_set, by=by, at=self._clock.now())
        return rule_set

    async def review(self, recording: str, *, score: int, note: str, confirmed: Sequence[str],
                     by: str) -> Document:
        """A supervisor's review of a scored call: her score, a note, and which fired rules she upholds."""
        require_valid_text("note", note)
        result = await self.store.result(recording)
        if result is None:
            raise NotFound("no quality result for this recording")
        fired = {hit["rule"] for hit in result.get("hits", [])}
        unknown = sorted(set(confirmed) - fired)
        if unknown:
            raise InvalidInput(f"confirmed: not rules that fired on this call: {', '.join(unknown)}")
        if len(note) > MAX_NOTE:
            raise InvalidInput(f"note: at most {MAX_NOTE} characters")
        review = {"score": score, "note": note, "confirmed": sorted(set(confirmed)), "by": by,
                  "at": self._clock.now()}
        updated = await self.store.review(recording, review)
        if updated is None:
            raise NotFound("no quality result for this recording")
        return updated
