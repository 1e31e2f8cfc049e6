import { t as tt } from './i18n.js';
// Wallboard figures: pure functions over what the page holds (overview frame, tracked waiting
// conversations, /api/kpi/today). No DOM here; times are passed in (ms, server clock).

export const WAITING_STATES = new Set(['queued', 'offered']);
export const CHANNEL_ORDER = ['webchat', 'sms', 'email', 'telegram', 'voice'];
export const AGENT_STATES = ['available', 'chat', 'call', 'away', 'offline'];
export const AGENT_STATE_LABELS = {
  available: tt('wbmodel.available'), chat: tt('wbmodel.busy_on_chat'), call: tt('wbmodel.on_a_call'), away: tt('wbmodel.away_or_paused'), offline: tt('wbmodel.offline'),
};
const STAFF_ROLES = new Set(['agent', 'team_leader', 'supervisor']);  // those who take contacts

/** One agent's wall state: offline, on a call, busy on chat (any written channel), available or away. */
export function agentState(agent) {
  if (!agent.online || agent.status === 'offline') return 'offline';
  const load = agent.load || {};
  if ((Number(load.voice) || 0) > 0) return 'call';
  const chats = Object.entries(load).reduce((n, [ch, v]) => n + (ch === 'voice' ? 0 : Number(v) || 0), 0);
  if (chats > 0) return 'chat';
  // Any other status (away, a pause with its reason) is not taking contacts: away on the wall.
  return agent.status === 'available' ? 'available' : 'away';
}

/** Those who take contacts, not disabled. */
export function staff(agents) {
  return (agents || []).filter((a) => STAFF_ROLES.has(a.role) && !a.disabled);
}

export function countStates(agents) {
  const counts = Object.fromEntries(AGENT_STATES.map((s) => [s, 0]));
  for (const agent of agents) counts[agentState(agent)] += 1;
  return counts;
}

/** Agents qualified for a queue: they hold every skill it needs (as routing asks). */
export function qualifiedFor(queue, agents) {
  const needs = (queue && queue.skills) || [];
  return agents.filter((a) => needs.every((s) => (a.skills || []).includes(s)));
}

export function servingChannel(channel, agents) {
  return agents.filter((a) => (Number((a.capacity || {})[channel]) || 0) > 0);
}

/** Conversations waiting for an agent (in line or ringing), from inbox summaries and frames. */
export class WaitingTracker {
  constructor() { this.items = new Map(); }

  reset(summaries) {
    this.items.clear();
    for (const s of summaries) this.upsert(s);
  }

  upsert(summary) {
    if (!summary || !summary.id) return;
    const since = Date.parse(summary.waiting_since || '');
    if (WAITING_STATES.has(summary.state) && Number.isFinite(since)) {
      // Only what the wall shows: no contact, no preview.
      this.items.set(summary.id, { channel: String(summary.channel || ''), queue: String(summary.queue || ''), since });
    } else {
      this.items.delete(summary.id);
    }
  }

  remove(id) { this.items.delete(id); }

  /** {count, longest_s} of the waiting conversations that `match`. */
  stats(match, nowMs) {
    let count = 0;
    let oldest = Infinity;
    for (const item of this.items.values()) {
      if (!match(item)) continue;
      count += 1;
      oldest = Math.min(oldest, item.since);
    }
    return { count, longest_s: count ? Math.max(0, (nowMs - oldest) / 1000) : 0 };
  }

  channels() { return new Set(Array.from(this.items.values(), (i) => i.channel)); }
}

/** The queue's waiting and longest wait: Redis's overview (ticking since the frame) and the tracker. */
export function queueWaiting(q, tracker, frameAgeS, nowMs) {
  const tracked = tracker.stats((i) => i.queue === q.id, nowMs);
  const inLine = Number(q.waiting) || 0;
  const fromOverview = inLine > 0 ? (Number(q.longest_wait_s) || 0) + frameAgeS : 0;
  return {
    count: inLine + (Number(q.offered) || 0),
    longest_s: Math.max(fromOverview, tracked.longest_s),
  };
}

export function orderedChannels(...sets) {
  const all = new Set();
  for (const set of sets) for (const ch of set) if (ch) all.add(ch);
  const known = CHANNEL_ORDER.filter((ch) => all.has(ch));
  return [...known, ...Array.from(all).filter((ch) => !CHANNEL_ORDER.includes(ch)).sort()];
}

/** A ratio (0..1 or null) as "87 %"; "–" when there is nothing to measure yet. */
export function percent(ratio) {
  return typeof ratio === 'number' && Number.isFinite(ratio) ? `${Math.round(ratio * 100)} %` : '–';
}

export function underTarget(ratio, target) {
  return typeof ratio === 'number' && typeof target === 'number' && ratio < target;
}

/**
 * Quarter-hour starts (ms) to show: from the first with data (or `min` quarters back), never before
 * the day's start, to the quarter holding `nowMs`.
 */
export function quarters(dayStartMs, firstDataMs, nowMs, min = 16) {
  const q = 15 * 60 * 1000;
  const last = Math.floor(nowMs / q) * q;
  const wanted = Math.min(Number.isFinite(firstDataMs) ? firstDataMs : last, last - (min - 1) * q);
  const first = Math.max(Math.floor(wanted / q) * q, Math.ceil(dayStartMs / q) * q);
  const out = [];
  for (let t = first; t <= last; t += q) out.push(t);
  return out;
}
