"""Call quality: what a recorded call is checked against, and the checks themselves (pure: no I/O).

A recorded call arrives here as a :class:`CallAnalysis`: per speaker (the two legs of the recording
are separate) the recognised words with their times and the stretches of voice activity. A queue's
:class:`RuleSet` is a list of :class:`Rule` of three kinds:

- ``keywords``: one of ``phrases`` said (by ``speaker``, or by anyone) with its start inside
  ``[from_ms, to_ms)``. Forbidden words and complaint-risk words fire when said; a required
  greeting is the same rule negated (it fires when the greeting is *not* said in the first 15 s);
- ``silence``: nobody speaks for longer than ``longer_than_ms`` inside the range;
- ``talk_over``: ``speaker`` (or either) starts speaking while the other speaks, and both go on
  together for longer than ``longer_than_ms``.

Every rule may be negated: it then fires when its condition is *never* met in the range. A rule
that fires costs its ``points``: the call's score is 100 less the points of every rule that fired
(at least 0), and a call is flagged when any rule fired. Each hit carries the moments (ms from the
start of the recording) a supervisor jumps to in the player.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hub.domain.text import is_valid_unicode

MAX_RULES = 50
MAX_PHRASES = 50
MAX_PHRASE_CHARS = 100
MAX_MS = 4 * 3600 * 1000  # four hours: longer than any call
RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
FULL_SCORE = 100


class Speaker(enum.StrEnum):
    """One leg of a recording: what the agent's phone sent, or what the caller sent."""

    AGENT = "agent"
    CALLER = "caller"

    @property
    def other(self) -> Speaker:
        return Speaker.CALLER if self is Speaker.AGENT else Speaker.AGENT


class RuleKind(enum.StrEnum):
    KEYWORDS = "keywords"
    SILENCE = "silence"
    TALK_OVER = "talk_over"


@dataclass(frozen=True, slots=True, kw_only=True)
class Word:
    """One recognised word; times in ms from the start of the recording."""

    text: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0

    def __repr__(self) -> str:  # what was said is personal data: never in a log line
        return f"Word({self.start_ms}-{self.end_ms} ms)"


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A stretch of time, ``[start_ms, end_ms)``."""

    start_ms: int
    end_ms: int

    @property
    def length_ms(self) -> int:
        return self.end_ms - self.start_ms


@dataclass(frozen=True, slots=True, kw_only=True)
class LegAnalysis:
    speaker: Speaker
    words: tuple[Word, ...] = ()
    activity: tuple[Span, ...] = ()  # where this leg carries voice, in order, not overlapping


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnalysis:
    """What the worker heard on one recording (both legs)."""

    duration_ms: int
    legs: tuple[LegAnalysis, ...]

    def leg(self, speaker: Speaker) -> LegAnalysis:
        return next((leg for leg in self.legs if leg.speaker is speaker), LegAnalysis(speaker=speaker))


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One quality rule (see the module's docstring). ``to_ms`` None: to the end of the call."""

    name: str
    kind: RuleKind
    points: int = 10
    negate: bool = False
    speaker: Speaker | None = None
    phrases: tuple[str, ...] = ()
    from_ms: int = 0
    to_ms: int | None = None
    longer_than_ms: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSet:
    """The rules of one queue (``*``: of every queue without its own)."""

    queue: str
    rules: tuple[Rule, ...] = ()

    def phrases(self) -> frozenset[str]:
        return frozenset(p for rule in self.rules for p in rule.phrases)


@dataclass(frozen=True, slots=True, kw_only=True)
class Moment:
    """Where in the recording a rule's condition was seen: the player jumps to ``at_ms``."""

    at_ms: int
    end_ms: int
    speaker: Speaker | None = None
    phrase: str | None = None  # the keyword phrase heard (keywords rules)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleHit:
    rule: str
    kind: RuleKind
    negate: bool
    points: int
    moments: tuple[Moment, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class QualityResult:
    score: int
    hits: tuple[RuleHit, ...] = field(default_factory=tuple)

    @property
    def flagged(self) -> bool:
        return bool(self.hits)


# -- evaluation ---------------------------------------------------------------------------------------

def evaluate(rules: RuleSet, call: CallAnalysis) -> QualityResult:
    """Check ``call`` against every rule of ``rules``; the hits in the rule set's order."""
    hits = tuple(hit for rule in rules.rules if (hit := check(rule, call)) is not None)
    return QualityResult(score=max(0, FULL_SCORE - sum(hit.points for hit in hits)), hits=hits)


def check(rule: Rule, call: CallAnalysis) -> RuleHit | None:
    """The rule's hit on ``call``, or None when it does not fire."""
    window = Span(start_ms=rule.from_ms, end_ms=min(call.duration_ms, rule.to_ms if rule.to_ms is not None
                                                    else call.duration_ms))
    seen = tuple(_conditions(rule, call, window))
    if rule.negate:
        if seen:
            return None
        moments: tuple[Moment, ...] = (Moment(at_ms=window.start_ms, end_ms=max(window.start_ms, window.end_ms),
                                              speaker=rule.speaker),)
    elif seen:
        moments = seen
    else:
        return None
    return RuleHit(rule=rule.name, kind=rule.kind, negate=rule.negate, points=rule.points, moments=moments)


def _conditions(rule: Rule, call: CallAnalysis, window: Span) -> Iterable[Moment]:
    if rule.kind is RuleKind.KEYWORDS:
        return keyword_moments(rule, call, window)
    if rule.kind is RuleKind.SILENCE:
        return (Moment(at_ms=gap.start_ms, end_ms=gap.end_ms) for gap in silences(call, window)
                if gap.length_ms > rule.longer_than_ms)
    return (moment for moment in talk_overs(call, window, rule.speaker)
            if moment.end_ms - moment.at_ms > rule.longer_than_ms)


def keyword_moments(rule: Rule, call: CallAnalysis, window: Span) -> list[Moment]:
    """Every place one of the rule's phrases was said inside ``window``, in time order."""
    speakers = [rule.speaker] if rule.speaker is not None else list(Speaker)
    phrases = [(phrase, tokens(phrase)) for phrase in rule.phrases]
    found: list[Moment] = []
    for speaker in speakers:
        words = call.leg(speaker).words
        said = [normalise(w.text) for w in words]
        for phrase, wanted in phrases:
            for i in range(len(said) - len(wanted) + 1 if wanted else 0):
                if said[i:i + len(wanted)] == wanted and window.start_ms <= words[i].start_ms < window.end_ms:
                    found.append(Moment(at_ms=words[i].start_ms, end_ms=words[i + len(wanted) - 1].end_ms,
                                        speaker=speaker, phrase=phrase))
    return sorted(found, key=lambda m: (m.at_ms, m.phrase or ""))


def silences(call: CallAnalysis, window: Span) -> list[Span]:
    """The stretches of ``window`` where neither leg carries voice."""
    busy = merged(span for leg in call.legs for span in leg.activity)
    gaps: list[Span] = []
    cursor = window.start_ms
    for span in busy:
        if span.end_ms <= cursor:
            continue
        if span.start_ms >= window.end_ms:
            break
        if span.start_ms > cursor:
            gaps.append(Span(start_ms=cursor, end_ms=span.start_ms))
        cursor = max(cursor, span.end_ms)
    if cursor < window.end_ms:
        gaps.append(Span(start_ms=cursor, end_ms=window.end_ms))
    return gaps


def talk_overs(call: CallAnalysis, window: Span, speaker: Speaker | None) -> list[Moment]:
    """Where one leg starts speaking while the other speaks (the one who started later talks over),
    clipped to ``window``; only ``speaker``'s when given."""
    found: list[Moment] = []
    for who in ([speaker] if speaker is not None else list(Speaker)):
        for mine in call.leg(who).activity:
            for theirs in call.leg(who.other).activity:
                started_inside = theirs.start_ms < mine.start_ms < theirs.end_ms
                tie = theirs.start_ms == mine.start_ms and who is Speaker.CALLER  # a tie counts once, for the caller
                if not (started_inside or tie):
                    continue
                start = max(mine.start_ms, window.start_ms)
                end = min(mine.end_ms, theirs.end_ms, window.end_ms)
                if end > start:
                    found.append(Moment(at_ms=start, end_ms=end, speaker=who))
    return sorted(found, key=lambda m: m.at_ms)


def merged(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in order."""
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start_ms, s.end_ms)):
        if out and span.start_ms <= out[-1].end_ms:
            out[-1] = Span(start_ms=out[-1].start_ms, end_ms=max(out[-1].end_ms, span.end_ms))
        else:
            out.append(span)
    return out


def normalise(word: str) -> str:
    """How words are compared: NFC, case-folded, without surrounding punctuation."""
    return unicodedata.normalize("NFC", word).casefold().strip(".,!?;:'\"()[]")


def tokens(phrase: str) -> list[str]:
    return [t for t in (normalise(part) for part in phrase.split()) if t]


# -- validation (rule sets come from supervisors through the console) -------------------------------

def rule_problems(rule: Rule) -> list[str]:
    """What is wrong with one rule, in words a supervisor understands; empty when it is valid."""
    problems: list[str] = []
    if not RULE_NAME.match(rule.name):
        problems.append("name: 1-40 lower-case letters, digits, '-' or '_'")
    if not 0 <= rule.points <= FULL_SCORE:
        problems.append(f"points: 0 to {FULL_SCORE}")
    if not 0 <= rule.from_ms <= MAX_MS or (rule.to_ms is not None and not rule.from_ms < rule.to_ms <= MAX_MS):
        problems.append("range: 0 <= from_ms < to_ms <= 4 h")
    if not 0 <= rule.longer_than_ms <= MAX_MS:
        problems.append("longer_than_ms: 0 to 4 h")
    if rule.kind is RuleKind.KEYWORDS:
        problems += _phrase_problems(rule.phrases)
    elif rule.phrases:
        problems.append(f"phrases: only keywords rules have phrases, not {rule.kind.value}")
    if rule.kind is RuleKind.SILENCE and rule.speaker is not None:
        problems.append("speaker: a silence is nobody speaking; leave it out")
    return [f"{rule.name or '(unnamed)'}: {p}" if RULE_NAME.match(rule.name) else p for p in problems]


def _phrase_problems(phrases: Sequence[str]) -> list[str]:
    if not phrases or len(phrases) > MAX_PHRASES:
        return [f"phrases: 1 to {MAX_PHRASES}"]
    problems = []
    for phrase in phrases:
        if not is_valid_unicode(phrase):
            problems.append("phrases: not valid Unicode")
        elif not tokens(phrase) or len(phrase) > MAX_PHRASE_CHARS:
            problems.append(f"phrases: each 1 to {MAX_PHRASE_CHARS} characters with a word in it")
    return problems


def rule_set_problems(rules: Sequence[Rule]) -> list[str]:
    """Every problem of a rule set; empty when it may be stored."""
    problems = [p for rule in rules for p in rule_problems(rule)]
    if len(rules) > MAX_RULES:
        problems.append(f"rules: at most {MAX_RULES}")
    names = [rule.name for rule in rules]
    problems += [f"{name}: the name is used twice" for name in sorted({n for n in names if names.count(n) > 1})]
    return problems


def rule_set_for(queue: str | None, stored: Mapping[str, RuleSet]) -> RuleSet:
    """The rules a call of ``queue`` is checked against: its own, else the ``*`` set, else none."""
    return stored.get(queue or "") or stored.get("*") or RuleSet(queue=queue or "*")
