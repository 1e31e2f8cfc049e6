// Left column: Offers / My conversations / Queued, kept live from WebSocket frames.
import { menuText } from './call.js';
import {
  h, reconcile, setText, channelBadge, mmss, secondsSince, relTime, parseTs, fullTime, stateName,
} from './render.js';
import { formatDate, t } from './i18n.js';
import { snoozedText } from './snooze.js';

const MINE_STATES = new Set(['assigned', 'wrap_up']);
const KINDS = ['offers', 'assigned', 'snoozed', 'queued'];

/** A summary older than the one held (its transition's version is lower): ignore it. */
export function isStale(prev, next) {
  return !!prev && Number.isInteger(prev.version) && Number.isInteger(next.version) && next.version < prev.version;
}

export class Inbox {
  /**
   * els: {offers, assigned, queued} list containers + {offersCount, assignedCount, queuedCount}
   * opts: me, queueName(id) → label, onSelect(summary), onAccept(summary), onDecline(summary)
   */
  constructor(els, opts) {
    this.els = els;
    this.me = opts.me;
    this.queueName = opts.queueName || ((id) => id);
    this.onSelect = opts.onSelect;
    this.onAccept = opts.onAccept;
    this.onDecline = opts.onDecline;
    this.onChange = opts.onChange || (() => {});
    this.convs = new Map();   // id → Summary
    this.offers = new Map();  // id → expires_at (string | null)
    this.unread = new Map();  // id → customer messages not read yet
    this.busy = new Set();    // ids with an accept/decline in flight
    this.calls = new Map();   // id → Call of a voice offer (docs/api.md, "Calls")
    this.selectedId = null;
    this.snapshotLoading = false;
    this.touched = new Set(); // ids changed by frames while a snapshot was loading
  }

  setMe(me) {
    this.me = { ...this.me, ...me };
  }

  // ------------------------------------------------------------ classification

  listOf(s) {
    if (!s) return null;
    if (this.offers.has(s.id)) return 'offers';
    if (MINE_STATES.has(s.state) && (s.agent_id == null || !this.me || s.agent_id === this.me.id)) {
      return s.snoozed_until && s.state === 'assigned' ? 'snoozed' : 'assigned';
    }
    if (s.state === 'queued') return 'queued';
    return null;
  }

  get(id) {
    return this.convs.get(id) || null;
  }

  // ------------------------------------------------------------ mutations

  beginSnapshot() {
    this.snapshotLoading = true;
    this.touched.clear();
  }

  /** Replace the lists with GET /api/inbox, keeping what frames changed meanwhile. */
  applySnapshot(data) {
    const next = new Map();
    const offers = new Map();
    for (const s of data.offers || []) {
      if (!s || !s.id) continue;
      next.set(s.id, s);
      offers.set(s.id, s.expires_at || this.offers.get(s.id) || null);
    }
    for (const s of [...(data.assigned || []), ...(data.queued || [])]) {
      if (s && s.id && !next.has(s.id)) next.set(s.id, s);
    }
    for (const id of this.touched) {
      if (this.convs.has(id)) next.set(id, this.convs.get(id));
      else next.delete(id);
      if (this.offers.has(id)) offers.set(id, this.offers.get(id));
      else offers.delete(id);
    }
    this.convs = next;
    this.offers = offers;
    for (const s of next.values()) {
      const n = Number(s.unread || s.unread_count);
      // An offer is one alert however many lines the customer wrote (frames count none for it either).
      if (n > 0 && s.id !== this.selectedId && !offers.has(s.id)) this.unread.set(s.id, Math.max(n, this.unread.get(s.id) || 0));
    }
    this.snapshotLoading = false;
    this.touched.clear();
    this.prune();
    this.render();
  }

  touch(id) {
    if (this.snapshotLoading) this.touched.add(id);
  }

  /** A `conversation` frame (or an HTTP answer carrying a Summary). */
  upsert(summary) {
    if (!summary || !summary.id) return;
    const prev = this.convs.get(summary.id);
    if (isStale(prev, summary)) return; // a frame that lost the race with a fresher HTTP answer
    const merged = { ...(prev || {}), ...summary };
    this.touch(summary.id);
    if (merged.state !== 'offered') this.offers.delete(summary.id);
    this.convs.set(summary.id, merged);
    this.prune();
    this.render();
  }

  addOffer(summary, expiresAt) {
    if (!summary || !summary.id) return;
    this.touch(summary.id);
    const prev = this.convs.get(summary.id);
    this.convs.set(summary.id, { ...(prev || {}), ...summary });
    this.offers.set(summary.id, expiresAt || summary.expires_at || null);
    this.render();
  }

  /** The call of a voice offer: who calls and their menu choice, shown beside Accept. */
  setCall(id, call) {
    if (!call || !this.offers.has(id)) return;
    this.calls.set(id, call);
    this.render();
  }

  withdrawOffer(id) {
    this.touch(id);
    this.offers.delete(id);
    this.calls.delete(id);
    this.busy.delete(id);
    this.prune();
    this.render();
  }

  /** A `conversation_gone` frame: it left my sight (taken by someone else, resolved). */
  forget(id) {
    this.touch(id);
    this.offers.delete(id);
    this.calls.delete(id);
    this.busy.delete(id);
    this.unread.delete(id);
    this.convs.delete(id);
    this.render();
  }

  /** A `message` frame: refresh preview / time / unread marker. */
  onMessage(conversationId, message, { isOpenAndVisible }) {
    const s = this.convs.get(conversationId);
    if (!s || !message) return;
    this.touch(conversationId);
    const update = { ...s };
    if (!message.private) update.preview = message.text;
    if (message.sent_at) update.updated_at = message.sent_at;
    this.convs.set(conversationId, update);
    if (message.author === 'customer' && !isOpenAndVisible) {
      this.unread.set(conversationId, (this.unread.get(conversationId) || 0) + 1);
    }
    this.render();
  }

  markRead(id) {
    if (this.unread.delete(id)) this.render();
  }

  select(id) {
    this.selectedId = id;
    this.unread.delete(id);
    this.render();
  }

  setBusy(id, busy) {
    if (busy) this.busy.add(id); else this.busy.delete(id);
    this.render();
  }

  /** Forget conversations that belong to no list (resolved, closed, someone else's). */
  prune() {
    for (const id of this.calls.keys()) if (!this.offers.has(id)) this.calls.delete(id);
    for (const [id, s] of this.convs) {
      if (!this.listOf(s)) {
        this.convs.delete(id);
        this.unread.delete(id);
      }
    }
  }

  // ------------------------------------------------------------ rendering

  counts() {
    const c = { offers: 0, assigned: 0, snoozed: 0, queued: 0, unread: 0 };
    for (const s of this.convs.values()) {
      const list = this.listOf(s);
      if (list) c[list] += 1;
      if (list && list !== 'offers') c.unread += this.unread.get(s.id) || 0;
    }
    return c;
  }

  render() {
    const lists = { offers: [], assigned: [], snoozed: [], queued: [] };
    for (const s of this.convs.values()) {
      const list = this.listOf(s);
      if (list) lists[list].push(s);
    }
    const ts = (v) => parseTs(v) ?? 0;
    lists.offers.sort((a, b) => (ts(this.offers.get(a.id)) || Infinity) - (ts(this.offers.get(b.id)) || Infinity));
    lists.assigned.sort((a, b) => {
      const wa = a.state === 'wrap_up' ? 1 : 0;
      const wb = b.state === 'wrap_up' ? 1 : 0;
      return wa - wb || ts(b.updated_at) - ts(a.updated_at);
    });
    lists.snoozed.sort((a, b) => ts(a.snoozed_until) - ts(b.snoozed_until));  // the next to wake first
    lists.queued.sort((a, b) => (Number(b.priority) || 0) - (Number(a.priority) || 0)
      || ts(a.waiting_since || a.updated_at) - ts(b.waiting_since || b.updated_at));

    for (const kind of KINDS) {
      if (!this.els[kind]) continue;  // a page without that list
      reconcile(this.els[kind], lists[kind], (s) => s.id,
        (s) => this.createItem(kind, s),
        (node, s) => this.updateItem(kind, node, s));
      setText(this.els[`${kind}Count`], lists[kind].length);
      const section = this.els[kind].closest('section');
      if (section) section.classList.toggle('is-empty', lists[kind].length === 0);
    }
    this.onChange(this.counts());
  }

  createItem(kind, s) {
    const refs = {};
    refs.badge = h('span', { class: 'conv-badge-slot' });
    refs.name = h('span', { class: 'conv-name' });
    refs.unread = h('span', { class: 'unread-dot', title: t('inbox.unread_messages'), 'data-testid': 'unread-count', hidden: true });
    refs.time = h('span', { class: 'conv-time' });
    refs.preview = h('div', { class: 'conv-preview' });
    refs.queue = h('span', { class: 'conv-queue' });
    refs.priority = h('span', { class: 'conv-priority', hidden: true });
    refs.state = h('span', { class: 'conv-state', hidden: true });
    const node = h('li', {
      class: `conv-item conv-item-${kind}`,
      'data-testid': 'conv-item',
      tabindex: '0',  // a list item opened by Enter or a click: not role=button, it holds Accept/Decline
    },
    h('div', { class: 'conv-line' }, refs.badge, refs.name, refs.unread, refs.time),
    refs.preview,
    h('div', { class: 'conv-meta' }, refs.queue, refs.priority, refs.state));

    if (kind === 'offers') {
      refs.countdown = h('span', { class: 'offer-countdown' });
      refs.accept = h('button', { type: 'button', class: 'btn btn-primary btn-sm', 'data-testid': 'offer-accept', text: t('inbox.accept') });
      refs.decline = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'offer-decline', text: t('inbox.decline') });
      refs.accept.addEventListener('click', (ev) => {
        ev.stopPropagation();
        const cur = this.convs.get(node.dataset.conversationId);
        if (cur) this.onAccept(cur);
      });
      refs.decline.addEventListener('click', (ev) => {
        ev.stopPropagation();
        const cur = this.convs.get(node.dataset.conversationId);
        if (cur) this.onDecline(cur);
      });
      if (s.channel === 'voice') {
        // A call is taken by answering the phone; Decline passes it to the next agent.
        node.appendChild(h('div', { class: 'offer-actions' }, refs.countdown, refs.decline));
        refs.ringDetails = h('span', { class: 'offer-ring-details', 'data-testid': 'offer-call-details' });
        node.appendChild(h('div', { class: 'offer-ring', role: 'status', 'data-testid': 'offer-ringing' },
          `📞 ${t('inbox.phone_ringing')}`, refs.ringDetails));
      } else {
        node.appendChild(h('div', { class: 'offer-actions' }, refs.countdown, refs.accept, refs.decline));
      }
    }

    const open = () => {
      const cur = this.convs.get(node.dataset.conversationId);
      if (cur) this.onSelect(cur);
    };
    node.addEventListener('click', open);
    node.addEventListener('keydown', (ev) => {
      if (ev.target !== node) return;
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); open(); }
    });
    node._refs = refs;
    return node;
  }

  updateItem(kind, node, s) {
    const r = node._refs;
    node.dataset.conversationId = s.id;
    node.dataset.state = s.state || '';
    node.classList.toggle('is-selected', s.id === this.selectedId);
    if (s.id === this.selectedId) node.setAttribute('aria-current', 'true');
    else node.removeAttribute('aria-current');
    const unread = this.unread.get(s.id) || 0;
    node.classList.toggle('is-unread', unread > 0);
    r.unread.hidden = unread === 0;
    setText(r.unread, unread > 0 ? String(unread) : '');
    r.unread.setAttribute('aria-label', t('inbox.unread_count', { count: unread }));

    if (r.badge.dataset.channel !== String(s.channel)) {
      r.badge.dataset.channel = String(s.channel);
      r.badge.replaceChildren(channelBadge(s.channel));
    }
    const contact = s.contact || {};
    setText(r.name, contact.display_name || contact.id || t('inbox.unknown_contact'));
    r.name.title = contact.display_name || '';
    setText(r.preview, s.preview || '');
    setText(r.queue, s.queue ? this.queueName(s.queue) : '');
    const prio = Number(s.priority) || 0;
    r.priority.hidden = prio <= 0;
    setText(r.priority, prio > 0 ? `P${prio}` : '');
    r.state.hidden = s.state !== 'wrap_up';
    setText(r.state, s.state === 'wrap_up' ? stateName(s.state) : '');

    if (r.ringDetails) {
      const call = this.calls.get(s.id);
      setText(r.ringDetails, call
        ? [call.caller || t('inbox.unknown_number'), menuText(call, this.queueName), historyText(call.history, s.id)]
          .filter(Boolean).join(' · ')
        : '');
    }
    if (r.accept) {
      const busy = this.busy.has(s.id);
      r.accept.disabled = busy;
      r.decline.disabled = busy;
    }
    this.updateTime(kind, node, s, Date.now());
  }

  updateTime(kind, node, s, now) {
    const r = node._refs;
    if (kind === 'offers') {
      const exp = parseTs(this.offers.get(s.id));
      if (exp === null) {
        setText(r.countdown, t('inbox.offer'));
        r.countdown.classList.remove('is-urgent', 'is-expired');
      } else {
        const left = (exp - now) / 1000;
        setText(r.countdown, left > 0 ? t('inbox.time_left', { time: mmss(Math.ceil(left)) }) : t('inbox.expired'));
        r.countdown.classList.toggle('is-urgent', left > 0 && left <= 10);
        r.countdown.classList.toggle('is-expired', left <= 0);
        r.countdown.title = t('inbox.expires', { time: fullTime(this.offers.get(s.id)) });
      }
      const waited = s.waiting_since ? t('inbox.waiting', { time: mmss(secondsSince(s.waiting_since, now)) }) : '';
      setText(r.time, waited);
    } else if (kind === 'queued') {
      const since = s.waiting_since || s.updated_at;
      const secs = secondsSince(since, now);
      setText(r.time, since ? mmss(secs) : '');
      r.time.title = since ? t('inbox.waiting_since', { time: fullTime(since) }) : '';
      r.time.classList.toggle('is-late', secs > 60);
    } else if (kind === 'snoozed') {
      setText(r.time, formatDate(s.snoozed_until, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }));
      r.time.title = snoozedText(s);
    } else {
      setText(r.time, relTime(s.updated_at, now));
      r.time.title = s.updated_at ? t('inbox.updated', { time: fullTime(s.updated_at) }) : '';
    }
  }

  /** Once a second: countdowns and wait times. */
  tick() {
    const now = Date.now();
    for (const kind of KINDS) {
      if (!this.els[kind]) continue;
      for (const node of this.els[kind].children) {
        const s = this.convs.get(node.dataset.conversationId);
        if (s && node._refs) this.updateTime(kind, node, s, now);
      }
    }
  }
}

/** "first contact" or "3 earlier contacts, last by sms on 2 Dec (resolved)": the caller's history. */
export function historyText(conversations, currentId) {
  if (!Array.isArray(conversations)) return '';
  const earlier = conversations.filter((c) => c && c.id !== currentId);
  if (!earlier.length) return t('inbox.first_contact');
  const last = earlier.reduce((a, b) => (String(a.updated_at || '') > String(b.updated_at || '') ? a : b));
  const day = last.updated_at ? formatDate(last.updated_at, { day: 'numeric', month: 'short' }) : '';
  const vars = { count: earlier.length, channel: last.channel, day, state: stateName(last.state) };
  return day ? t('inbox.history_on', vars) : t('inbox.history', vars);
}
