"""Live routing state in Redis: waiting queues, agent presence and load, offers, atomic claims.

Every change that two hub processes could race on is one Lua script, so it is atomic: a
conversation is offered to one agent once, an agent is never pushed over capacity, and an
offer is either accepted or released, never both. MongoDB stays the source of truth; after a
Redis restart (the ``epoch`` key is gone) ``routing.service`` rebuilds this state from it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis

from hub.domain.ids import AgentId, AgentStatus, Skill
from routing.policy import AgentSnapshot, WaitingConversation

P = "hub:"
AGENTS = P + "agents"
OFFERS = P + "offers"
EPOCH = P + "epoch"
# Every key routing owns (and only those): what a rebuild clears.
ROUTING_KEY_PATTERNS = (AGENTS, OFFERS, EPOCH, P + "q:*", P + "qt:*", P + "conv:*", P + "agent:*", P + "offer:*",
                        P + "held:*")
CLAIM_BATCH = 100  # claims per script call: Redis runs nothing else meanwhile (about a millisecond)
PRIORITY_WEIGHT = 10**13  # one priority step outranks any difference of enqueue times (ms)


def queue_key(queue: str) -> str:
    return f"{P}q:{queue}"


def age_key(queue: str) -> str:
    """The same members as the queue, scored by enqueue time only (for the longest wait)."""
    return f"{P}qt:{queue}"


def conv_key(conversation_id: str) -> str:
    return f"{P}conv:{conversation_id}"


def agent_key(agent_id: str) -> str:
    return f"{P}agent:{agent_id}"


def offer_key(conversation_id: str) -> str:
    return f"{P}offer:{conversation_id}"


def held_key(conversation_id: str) -> str:
    return f"{P}held:{conversation_id}"


def queue_score(priority: int, queued_ms: int) -> int:
    return -priority * PRIORITY_WEIGHT + queued_ms


# A round's offers in one atomic call. Each claim is checked against Redis as it is when its turn
# comes (earlier claims of the same call included): the conversation still waits in its queue, the
# agent is available, seen within the presence TTL, under capacity on the channel, on no call, and
# free of any work for a call. A claim that fails is skipped; the others go on. ``by_hand`` ('1'): an
# agent takes it herself (routing.by_hand): any status but offline will do, the rest is the same.
# KEYS: offers, then per claim: queue, age key of the queue, agent, offer
# ARGV: now, presence_ttl, by_hand, then per claim: conv_id, agent_id, channel, expires
CLAIM_MANY = """
local now, ttl, by_hand = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3] == '1'
local out = {}
for i = 0, (#ARGV - 3) / 4 - 1 do
  local queue, age, akey, okey = KEYS[2 + 4 * i], KEYS[3 + 4 * i], KEYS[4 + 4 * i], KEYS[5 + 4 * i]
  local cid, agent, channel, expires = ARGV[4 + 4 * i], ARGV[5 + 4 * i], ARGV[6 + 4 * i], ARGV[7 + 4 * i]
  local outcome = 'ok'
  local score = redis.call('ZSCORE', queue, cid)
  if not score then
    outcome = 'gone'
  else
    local a = redis.call('HMGET', akey, 'status', 'heartbeat', 'cap:' .. channel, 'load:' .. channel, 'load:voice')
    local fit = a[1] == 'available' or (by_hand and a[1] and a[1] ~= 'offline')
    if not fit or tonumber(a[2] or 0) < now - ttl then
      outcome = 'agent_unfit'
    elseif tonumber(a[4] or 0) >= tonumber(a[3] or 0) or tonumber(a[5] or 0) > 0 then
      outcome = 'agent_full'
    elseif channel == 'voice' then
      local fields = redis.call('HGETALL', akey)
      for f = 1, #fields, 2 do
        if string.sub(fields[f], 1, 5) == 'load:' and tonumber(fields[f + 1]) > 0 then outcome = 'agent_full' end
      end
    end
  end
  if outcome == 'ok' then
    redis.call('ZREM', queue, cid)
    redis.call('ZREM', age, cid)
    redis.call('HINCRBY', akey, 'load:' .. channel, 1)
    redis.call('HSET', akey, 'last_assigned', now)
    redis.call('HSET', okey, 'agent', agent, 'channel', channel, 'expires', expires, 'score', score)
    redis.call('ZADD', KEYS[1], expires, cid)
  end
  out[#out + 1] = outcome
end
return out
"""

# One offer to a named agent (a transfer to her), not through the queue: the agent checks of
# CLAIM_MANY, then the conversation's routing hash (so a decline or timeout puts it back in its queue
# with the agents to skip), the offer and the agent's load, at once.
# KEYS: offers, agent, offer, conv   ARGV: now, ttl, conv_id, agent_id, channel, expires, score, queue,
# priority, skills, queued_ms, declined
OFFER_TO = """
local now, ttl, channel = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[5]
if redis.call('EXISTS', KEYS[3]) == 1 then return 'gone' end
local a = redis.call('HMGET', KEYS[2], 'status', 'heartbeat', 'cap:' .. channel, 'load:' .. channel, 'load:voice')
if a[1] ~= 'available' or tonumber(a[2] or 0) < now - ttl then return 'agent_unfit' end
if tonumber(a[4] or 0) >= tonumber(a[3] or 0) or tonumber(a[5] or 0) > 0 then return 'agent_full' end
if channel == 'voice' then
  local fields = redis.call('HGETALL', KEYS[2])
  for f = 1, #fields, 2 do
    if string.sub(fields[f], 1, 5) == 'load:' and tonumber(fields[f + 1]) > 0 then return 'agent_full' end
  end
end
redis.call('DEL', KEYS[4])
redis.call('HSET', KEYS[4], 'queue', ARGV[8], 'channel', channel, 'priority', ARGV[9], 'skills', ARGV[10],
           'queued_ms', ARGV[11], 'declined', ARGV[12])
redis.call('HINCRBY', KEYS[2], 'load:' .. channel, 1)
redis.call('HSET', KEYS[2], 'last_assigned', now)
redis.call('HSET', KEYS[3], 'agent', ARGV[4], 'channel', channel, 'expires', ARGV[6], 'score', ARGV[7])
redis.call('ZADD', KEYS[1], ARGV[6], ARGV[3])
return 'ok'
"""

# KEYS: offer, offers, held, conv   ARGV: conv_id, agent_id
ACCEPT = """
if redis.call('HGET', KEYS[1], 'agent') ~= ARGV[2] then return 0 end
local channel = redis.call('HGET', KEYS[1], 'channel')
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], ARGV[2] .. '|' .. channel)
return 1
"""

# Decline or timeout. KEYS: offer, offers, conv
# ARGV: conv_id, expected_agent ('' = any), prefix, now, '0' to put it back without marking the agent as declined
RELEASE_OFFER = """
local o = redis.call('HMGET', KEYS[1], 'agent', 'channel', 'score')
if not o[1] or (ARGV[2] ~= '' and o[1] ~= ARGV[2]) then return false end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
local akey = ARGV[3] .. 'agent:' .. o[1]
if tonumber(redis.call('HGET', akey, 'load:' .. o[2]) or 0) > 0 then
  redis.call('HINCRBY', akey, 'load:' .. o[2], -1)
end
if ARGV[5] ~= '0' then
  local declined = redis.call('HGET', KEYS[3], 'declined') or ''
  redis.call('HSET', KEYS[3], 'declined', declined .. o[1] .. '@' .. ARGV[4] .. ',')
end
local q = redis.call('HMGET', KEYS[3], 'queue', 'queued_ms')
if q[1] then
  redis.call('ZADD', ARGV[3] .. 'q:' .. q[1], o[3], ARGV[1])
  redis.call('ZADD', ARGV[3] .. 'qt:' .. q[1], q[2], ARGV[1])
end
return o[1]
"""

# Resolve, transfer, lost agent. KEYS: held, conv   ARGV: prefix
RELEASE_HELD = """
local h = redis.call('GET', KEYS[1])
if not h then return false end
redis.call('DEL', KEYS[1], KEYS[2])
local sep = string.find(h, '|', 1, true)
local agent, channel = string.sub(h, 1, sep - 1), string.sub(h, sep + 1)
local akey = ARGV[1] .. 'agent:' .. agent
if tonumber(redis.call('HGET', akey, 'load:' .. channel) or 0) > 0 then
  redis.call('HINCRBY', akey, 'load:' .. channel, -1)
end
return agent
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """One offer a round decided, as ``claim_many`` commits it."""

    conversation_id: str
    queue: str
    agent_id: str
    channel: str
    expires_ms: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Offer:
    conversation_id: str
    agent_id: AgentId
    expires_ms: int


class RedisRoutingStore:
    """Thin typed wrapper over the keys and scripts above. Stateless apart from the client."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._claim_many = redis.register_script(CLAIM_MANY)
        self._offer_to = redis.register_script(OFFER_TO)
        self._accept = redis.register_script(ACCEPT)
        self._release_offer = redis.register_script(RELEASE_OFFER)
        self._release_held = redis.register_script(RELEASE_HELD)

    # -- queues ---------------------------------------------------------------------------------
    async def enqueue(self, work: WaitingConversation, queue: str) -> None:
        key = conv_key(work.conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping={"queue": queue, "channel": work.channel, "priority": work.priority,
                                    "skills": ",".join(sorted(work.skills)), "queued_ms": work.queued_ms,
                                    "declined": declined_field(work.declined_by)})
            pipe.zadd(queue_key(queue), {work.conversation_id: queue_score(work.priority, work.queued_ms)})
            pipe.zadd(age_key(queue), {work.conversation_id: work.queued_ms})
            await pipe.execute()

    async def dequeue(self, conversation_id: str) -> None:
        """Forget a conversation that left the queue by other means (resolved while waiting)."""
        queue = await self._redis.hget(conv_key(conversation_id), "queue")
        async with self._redis.pipeline(transaction=True) as pipe:
            if queue:
                pipe.zrem(queue_key(text(queue)), conversation_id)
                pipe.zrem(age_key(text(queue)), conversation_id)
            pipe.delete(conv_key(conversation_id))
            await pipe.execute()

    async def missing(self, placed: list[tuple[str, str]]) -> list[str]:
        """Of ``(conversation_id, queue)`` pairs, those neither waiting in that queue nor on offer."""
        async with self._redis.pipeline(transaction=False) as pipe:
            for conversation_id, queue in placed:
                pipe.zscore(queue_key(queue), conversation_id)
                pipe.exists(offer_key(conversation_id))
            raw = await pipe.execute()
        return [cid for i, (cid, _) in enumerate(placed) if raw[2 * i] is None and not raw[2 * i + 1]]

    async def waiting(self, queue: str, limit: int) -> list[WaitingConversation]:
        ids = [text(i) for i in await self._redis.zrange(queue_key(queue), 0, limit - 1)]
        if not ids:
            return []
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hgetall(conv_key(cid))
            rows = await pipe.execute()
        return [_waiting(cid, row) for cid, row in zip(ids, rows, strict=True) if row]

    async def position(self, queue: str, conversation_id: str) -> int | None:
        """1 for the next conversation to be offered from ``queue``; None when it is not waiting there."""
        rank: int | None = await self._redis.zrank(queue_key(queue), conversation_id)  # type: ignore[assignment]
        return None if rank is None else rank + 1

    async def queue_stats(self, queues: Iterable[str]) -> dict[str, tuple[int, int | None]]:
        """Per queue: how many wait, and the enqueue time (ms) of the one waiting longest."""
        names = list(queues)
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.zcard(queue_key(name))
                pipe.zrange(age_key(name), 0, 0, withscores=True)
            raw = await pipe.execute()
        stats: dict[str, tuple[int, int | None]] = {}
        for i, name in enumerate(names):
            oldest = raw[2 * i + 1]
            stats[name] = (int(raw[2 * i]), int(oldest[0][1]) if oldest else None)
        return stats

    # -- agents ---------------------------------------------------------------------------------
    async def put_presence(self, agent_id: str, *, status: AgentStatus, skills: frozenset[Skill],
                           capacity: Mapping[str, int], now_ms: int) -> None:
        fields: dict[str, str | int] = {"status": status.value, "skills": ",".join(sorted(skills)),
                                        "heartbeat": now_ms}
        fields.update({f"cap:{ch}": n for ch, n in capacity.items()})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(agent_key(agent_id), mapping=fields)  # type: ignore[arg-type]  # Mapping key invariance
            pipe.hsetnx(agent_key(agent_id), "last_assigned", 0)
            pipe.sadd(AGENTS, agent_id)
            await pipe.execute()

    async def refit(self, agent_id: str, *, skills: frozenset[Skill], capacity: Mapping[str, int]) -> bool:
        """New skills and capacities of a present agent (an admin's change); False when she has no
        presence (she gets them when she next registers). Status and heartbeat are left alone."""
        if not await self._redis.hexists(agent_key(agent_id), "status"):
            return False
        fields: dict[str, str | int] = {"skills": ",".join(sorted(skills))}
        fields.update({f"cap:{ch}": n for ch, n in capacity.items()})
        await self._redis.hset(agent_key(agent_id), mapping=fields)  # type: ignore[arg-type]  # Mapping key invariance
        return True

    async def heartbeat(self, agent_id: str, now_ms: int) -> bool:
        """Refresh presence; False when the agent's hash is gone (Redis restarted): re-register."""
        if not await self._redis.hexists(agent_key(agent_id), "status"):
            return False
        await self._redis.hset(agent_key(agent_id), "heartbeat", now_ms)
        return True

    async def agents(self) -> list[AgentSnapshot]:
        ids = [text(i) for i in await self._redis.smembers(AGENTS)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for aid in ids:
                pipe.hgetall(agent_key(aid))
            rows = await pipe.execute()
        return [_snapshot(aid, row) for aid, row in zip(ids, rows, strict=True) if row]

    async def set_load(self, agent_id: str, channel: str, load: int) -> None:
        await self._redis.hset(agent_key(agent_id), f"load:{channel}", load)

    # -- offers ---------------------------------------------------------------------------------
    async def claim_many(self, claims: Sequence[Claim], *, now_ms: int, presence_ttl_ms: int,
                         by_hand: bool = False) -> list[str]:
        """Atomically take each claim's conversation off its queue and offer it to its agent, in
        order, in one script call per ``CLAIM_BATCH`` claims.

        Returns one outcome per claim: ``ok``, ``gone`` (someone else took it) or
        ``agent_unfit``/``agent_full`` (the agent changed since the snapshot).
        """
        outcomes: list[str] = []
        for first in range(0, len(claims), CLAIM_BATCH):
            keys: list[str] = [OFFERS]
            args: list[str | int] = [now_ms, presence_ttl_ms, "1" if by_hand else "0"]
            for c in claims[first:first + CLAIM_BATCH]:
                keys += [queue_key(c.queue), age_key(c.queue), agent_key(c.agent_id), offer_key(c.conversation_id)]
                args += [c.conversation_id, c.agent_id, c.channel, c.expires_ms]
            outcomes += [text(r) for r in await self._claim_many(keys=keys, args=args)]
        return outcomes

    async def offer_to(self, work: WaitingConversation, queue: str, agent_id: str, *, expires_ms: int, now_ms: int,
                       presence_ttl_ms: int) -> str:
        """Offer ``work`` to one named agent at once (``OFFER_TO``): ``ok``, ``gone`` (on offer
        already), ``agent_unfit`` or ``agent_full``."""
        keys = [OFFERS, agent_key(agent_id), offer_key(work.conversation_id), conv_key(work.conversation_id)]
        args: list[str | int] = [now_ms, presence_ttl_ms, work.conversation_id, agent_id, work.channel, expires_ms,
                                 queue_score(work.priority, work.queued_ms), queue, work.priority,
                                 ",".join(sorted(work.skills)), work.queued_ms, declined_field(work.declined_by)]
        return text(await self._offer_to(keys=keys, args=args))

    async def accept(self, conversation_id: str, agent_id: str) -> bool:
        keys = [offer_key(conversation_id), OFFERS, held_key(conversation_id), conv_key(conversation_id)]
        return bool(await self._accept(keys=keys, args=[conversation_id, agent_id]))

    async def release_offer(self, conversation_id: str, expected_agent: str = "", *, now_ms: int,
                            declined: bool = True) -> AgentId | None:
        """Decline/timeout: re-queue with the original score; returns the agent it was offered to.
        ``declined=False``: a claim put back unseen, the agent not skipped for it afterwards."""
        keys = [offer_key(conversation_id), OFFERS, conv_key(conversation_id)]
        agent = await self._release_offer(keys=keys, args=[conversation_id, expected_agent, P, now_ms,
                                                           "1" if declined else "0"])
        return AgentId(text(agent)) if agent else None

    async def release_held(self, conversation_id: str) -> AgentId | None:
        agent = await self._release_held(keys=[held_key(conversation_id), conv_key(conversation_id)], args=[P])
        return AgentId(text(agent)) if agent else None

    async def hold(self, conversation_id: str, agent_id: str, channel: str) -> None:
        """Rebuild: record an assignment found in MongoDB and count it in the agent's load."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(held_key(conversation_id), f"{agent_id}|{channel}")
            pipe.hincrby(agent_key(agent_id), f"load:{channel}", 1)
            await pipe.execute()

    async def expired_offers(self, now_ms: int, limit: int = 100) -> list[str]:
        return [text(c) for c in await self._redis.zrangebyscore(OFFERS, 0, now_ms, start=0, num=limit)]

    async def offers_per_queue(self) -> dict[str, int]:
        ids = [text(c) for c in await self._redis.zrange(OFFERS, 0, -1)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for cid in ids:
                pipe.hget(conv_key(cid), "queue")
            queues = await pipe.execute()
        counts: dict[str, int] = {}
        for queue in queues:
            if queue:
                counts[text(queue)] = counts.get(text(queue), 0) + 1
        return counts

    async def offer_of(self, conversation_id: str) -> Offer | None:
        row = await self._redis.hgetall(offer_key(conversation_id))
        if not row:
            return None
        return Offer(conversation_id=conversation_id, agent_id=AgentId(text(row[b"agent"])),
                     expires_ms=int(row[b"expires"]))

    # -- rebuild --------------------------------------------------------------------------------
    async def epoch(self) -> str | None:
        value = await self._redis.get(EPOCH)
        return text(value) if value else None

    async def begin_rebuild(self, owner: str, ttl_s: int = 60) -> bool:
        return bool(await self._redis.set(P + "rebuild-lock", owner, nx=True, ex=ttl_s))

    async def finish_rebuild(self, epoch: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(EPOCH, epoch)
            pipe.delete(P + "rebuild-lock")
            await pipe.execute()

    async def clear(self) -> None:
        """Drop every routing key (the rebuild starts from nothing), and nothing else: leases,
        rate limits and login throttling share the ``hub:`` prefix and must survive a rebuild."""
        keys: list[bytes] = [k for pattern in ROUTING_KEY_PATTERNS
                             async for k in self._redis.scan_iter(match=pattern, count=1000)]
        if keys:
            await self._redis.delete(*keys)


def text(value: object) -> str:
    """Redis answers bytes (this client does not decode); keys and values here are ASCII/UTF-8."""
    return value.decode() if isinstance(value, bytes) else str(value)


def declined_field(declined_by: Mapping[AgentId, int]) -> str:
    """The ``declined`` field of a conversation's routing hash: ``agent@ms,`` per agent to skip."""
    return "".join(f"{agent}@{at}," for agent, at in declined_by.items())


def _text(row: Mapping[bytes, bytes], field: str, default: str = "") -> str:
    value = row.get(field.encode())
    return text(value) if value is not None else default


def _waiting(conversation_id: str, row: Mapping[bytes, bytes]) -> WaitingConversation:
    declined: dict[AgentId, int] = {}
    for entry in filter(None, _text(row, "declined").split(",")):
        agent, _, at = entry.partition("@")
        declined[AgentId(agent)] = int(at or 0)
    return WaitingConversation(
        conversation_id=conversation_id, channel=_text(row, "channel", "webchat"),  # type: ignore[arg-type]
        skills=frozenset(Skill(s) for s in _text(row, "skills").split(",") if s),
        priority=int(_text(row, "priority", "0")), queued_ms=int(_text(row, "queued_ms", "0")),
        declined_by=declined,
    )


def _snapshot(agent_id: str, row: Mapping[bytes, bytes]) -> AgentSnapshot:
    capacity: dict[str, int] = {}
    load: dict[str, int] = {}
    for key, value in row.items():
        name = text(key)
        if name.startswith("cap:"):
            capacity[name[4:]] = int(value)
        elif name.startswith("load:"):
            load[name[5:]] = int(value)
    return AgentSnapshot(
        agent_id=AgentId(agent_id), status=AgentStatus(_text(row, "status", "offline")),
        skills=frozenset(Skill(s) for s in _text(row, "skills").split(",") if s),
        capacity=capacity, load=load, last_assigned_ms=int(_text(row, "last_assigned", "0")),
        heartbeat_ms=int(_text(row, "heartbeat", "0")),
    )

