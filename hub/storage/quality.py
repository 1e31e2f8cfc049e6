"""Call quality in MongoDB: the durable job queue (``quality_jobs``), each recording's transcript
and score (``quality_results``) and the rule sets per queue (``quality_rules``).

Jobs are claimed atomically in ``seq`` order (the call_ended event's number: oldest call first), so
a backlog left by a restart is worked off in order; a claim is a lease, so a job whose worker died
is taken again after ``lease_s``. A MongoDB failure is ``ServiceUnavailable``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, ReturnDocument
from pymongo.errors import PyMongoError

from hub.domain.quality import (
    CallAnalysis,
    Moment,
    QualityResult,
    Rule,
    RuleHit,
    RuleKind,
    RuleSet,
    Speaker,
)
from hub.errors import ServiceUnavailable
from hub.storage.database import Db, Document

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
LIST_LIMIT = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityJob:
    """One recording to transcribe and score (``recording`` is its base name, the job's id)."""

    recording: str
    conversation_id: str
    call_id: str
    queue: str | None
    seq: int
    ended_at: datetime
    attempts: int = 0
    created_at: datetime | None = None


class MongoQualityStore:
    """Implements ``hub.quality.QualityStore`` and the worker's job queue."""

    def __init__(self, db: Db) -> None:
        self._jobs = db["quality_jobs"]
        self._results = db["quality_results"]
        self._rules = db["quality_rules"]

    async def ensure_indexes(self) -> None:
        await self._guard(self._jobs.create_indexes([IndexModel([("status", ASCENDING), ("seq", ASCENDING)],
                                                                name="claim")]))
        await self._guard(self._results.create_indexes([
            IndexModel([("conversation_id", ASCENDING)], name="conversation"),
            IndexModel([("flagged", ASCENDING), ("ended_at", DESCENDING)], name="flagged")]))

    # -- jobs ------------------------------------------------------------------------------------

    async def enqueue(self, job: QualityJob, now: datetime) -> bool:
        """Idempotent: True when the job is new (a replayed event adds nothing)."""
        doc = {"conversation_id": job.conversation_id, "call_id": job.call_id, "queue": job.queue, "seq": job.seq,
               "ended_at": job.ended_at, "status": PENDING, "attempts": 0, "not_before": now, "created_at": now}
        result = await self._guard(self._jobs.update_one({"_id": job.recording}, {"$setOnInsert": doc}, upsert=True))
        return result.upserted_id is not None

    async def claim(self, now: datetime, lease_s: float) -> QualityJob | None:
        """The oldest job due (or whose lease ran out), now this caller's for ``lease_s``."""
        due = {"$or": [{"status": PENDING, "not_before": {"$lte": now}},
                       {"status": RUNNING, "lease_until": {"$lt": now}}]}
        doc = await self._guard(self._jobs.find_one_and_update(
            due, {"$set": {"status": RUNNING, "lease_until": now + timedelta(seconds=lease_s)},
                  "$inc": {"attempts": 1}},
            sort=[("seq", ASCENDING)], return_document=ReturnDocument.AFTER))
        if doc is None:
            return None
        return QualityJob(recording=doc["_id"], conversation_id=doc["conversation_id"], call_id=doc["call_id"],
                          queue=doc.get("queue"), seq=doc["seq"], ended_at=doc["ended_at"],
                          attempts=doc["attempts"], created_at=doc.get("created_at"))

    async def defer(self, recording: str, until: datetime) -> None:
        await self._guard(self._jobs.update_one({"_id": recording}, {"$set": {"status": PENDING, "not_before": until}}))

    async def finish(self, recording: str, now: datetime) -> None:
        await self._guard(self._jobs.update_one({"_id": recording}, {"$set": {"status": DONE, "finished_at": now}}))

    async def fail(self, recording: str, error: str, now: datetime) -> None:
        await self._guard(self._jobs.update_one(
            {"_id": recording}, {"$set": {"status": FAILED, "error": error[:500], "finished_at": now}}))

    async def job(self, recording: str) -> Document | None:
        return await self._guard(self._jobs.find_one({"_id": recording}))  # type: ignore[no-any-return]

    async def job_counts(self) -> dict[str, int]:
        """Jobs per status (docs/operations.md: the backlog)."""
        counts = {status: 0 for status in (PENDING, RUNNING, DONE, FAILED)}
        for status in counts:
            counts[status] = await self._guard(self._jobs.count_documents({"status": status}))
        return counts

    # -- results ---------------------------------------------------------------------------------

    async def save_result(self, job: QualityJob, language: str, analysis: CallAnalysis, result: QualityResult,
                          now: datetime) -> None:
        legs = {leg.speaker.value: {"words": [[w.text, w.start_ms, w.end_ms, round(w.confidence, 3)]
                                              for w in leg.words],
                                    "activity": [[s.start_ms, s.end_ms] for s in leg.activity],
                                    "text": " ".join(w.text for w in leg.words)} for leg in analysis.legs}
        doc = {"conversation_id": job.conversation_id, "call_id": job.call_id, "queue": job.queue,
               "ended_at": job.ended_at, "language": language, "duration_ms": analysis.duration_ms,
               "score": result.score, "flagged": result.flagged, "hits": [hit_doc(h) for h in result.hits],
               "legs": legs, "text": " ".join(str(leg["text"]) for leg in legs.values() if leg["text"]),
               "analysed_at": now}
        await self._guard(self._results.update_one({"_id": job.recording}, {"$set": doc}, upsert=True))

    async def results_of(self, conversation_id: str) -> list[Document]:
        cursor = self._results.find({"conversation_id": conversation_id}).sort("ended_at", ASCENDING)
        return await self._guard(cursor.to_list(50))  # type: ignore[no-any-return]

    async def result(self, recording: str) -> Document | None:
        return await self._guard(self._results.find_one({"_id": recording}))  # type: ignore[no-any-return]

    async def flagged(self, *, unreviewed: bool, limit: int = LIST_LIMIT) -> list[Document]:
        query: dict[str, Any] = {"flagged": True}
        if unreviewed:
            query["review"] = None
        cursor = self._results.find(query, {"legs": 0, "text": 0}).sort("ended_at", DESCENDING).limit(limit)
        return await self._guard(cursor.to_list(limit))  # type: ignore[no-any-return]

    async def search(self, text: str, limit: int = 50) -> list[Document]:
        """Transcripts that contain ``text`` (literally), newest first."""
        cursor = self._results.find({"text": {"$regex": re.escape(text)}}, {"legs": 0}) \
            .sort("ended_at", DESCENDING).limit(limit)
        return await self._guard(cursor.to_list(limit))  # type: ignore[no-any-return]

    async def review(self, recording: str, review: Mapping[str, Any]) -> Document | None:
        return await self._guard(self._results.find_one_and_update(  # type: ignore[no-any-return]
            {"_id": recording}, {"$set": {"review": dict(review)}}, return_document=ReturnDocument.AFTER))

    # -- rule sets -------------------------------------------------------------------------------

    async def rule_sets(self) -> dict[str, RuleSet]:
        docs = await self._guard(self._rules.find({}).to_list(LIST_LIMIT))
        return {doc["_id"]: RuleSet(queue=doc["_id"], rules=tuple(rule_of(r) for r in doc["rules"])) for doc in docs}

    async def put_rule_set(self, rules: RuleSet, *, by: str, at: datetime) -> None:
        await self._guard(self._rules.update_one(
            {"_id": rules.queue}, {"$set": {"rules": [rule_doc(r) for r in rules.rules], "updated_by": by,
                                            "updated_at": at}}, upsert=True))

    async def delete_rule_set(self, queue: str) -> bool:
        return bool((await self._guard(self._rules.delete_one({"_id": queue}))).deleted_count)

    async def _guard(self, operation: Any) -> Any:
        try:
            return await operation
        except PyMongoError as err:
            raise ServiceUnavailable("call quality storage unavailable") from err


def rule_doc(rule: Rule) -> Document:
    return {"name": rule.name, "kind": rule.kind.value, "points": rule.points, "negate": rule.negate,
            "speaker": rule.speaker.value if rule.speaker else None, "phrases": list(rule.phrases),
            "from_ms": rule.from_ms, "to_ms": rule.to_ms, "longer_than_ms": rule.longer_than_ms}


def rule_of(doc: Mapping[str, Any]) -> Rule:
    return Rule(name=doc["name"], kind=RuleKind(doc["kind"]), points=int(doc["points"]), negate=bool(doc["negate"]),
                speaker=Speaker(doc["speaker"]) if doc.get("speaker") else None,
                phrases=tuple(doc.get("phrases") or ()), from_ms=int(doc.get("from_ms") or 0),
                to_ms=doc.get("to_ms"), longer_than_ms=int(doc.get("longer_than_ms") or 0))


def hit_doc(hit: RuleHit) -> Document:
    return {"rule": hit.rule, "kind": hit.kind.value, "negate": hit.negate, "points": hit.points,
            "moments": [moment_doc(m) for m in hit.moments]}


def moment_doc(moment: Moment) -> Document:
    return {"at_ms": moment.at_ms, "end_ms": moment.end_ms,
            "speaker": moment.speaker.value if moment.speaker else None, "phrase": moment.phrase}


def rules_json(rules: Sequence[Rule]) -> list[Document]:
    return [rule_doc(r) for r in rules]
