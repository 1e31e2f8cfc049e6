// Right pane: conversation header + actions, the call panel (voice), timeline, typing indicator,
// composer (none for voice: a call carries no text).
import { api, convPath } from './api.js';
import { CallPanel } from './call.js';
import { mailExtras, subjectNode } from './email.js';
import {
  h, clear, setText, channelBadge, channelName, clockTime, fullTime, stateName, slug, toast, toastError,
} from './render.js';
import { suggestionsNode } from './knowledge.js';
import { fillCanned } from './canned.js';
import { CannedMenu } from './canned_menu.js';
import { EmojiPicker } from './emoji.js';
import { FileButton, uploadFile } from './composer_files.js';
import { linkNodes } from './links.js';
import { isStale } from './inbox.js';
import { segmentHint } from './sms.js';
import { DEFAULT_LIMIT, lengthState } from './reply_limit.js';
import { higherStatus, paintStatus } from './status.js';
import { dayKey, dayLabel, eventSentence } from './timeline_words.js';
import { t as tr } from './i18n.js';

const TYPING_THROTTLE_MS = 2000;
const TYPING_IDLE_MS = 3000;
const REMOTE_TYPING_TIMEOUT_MS = 8000;

export class ConversationView {
  /**
   * opts: me, queueName(id), onSummary(summary) (push a fresher Summary to the inbox),
   *       onRead(id) (unread cleared), onOwnMessage(id, message) (a reply this tab posted: its
   *       frame skips this tab's socket), isVisible() → bool
   */
  constructor(opts) {
    this.me = opts.me;
    this.queueName = opts.queueName || ((id) => id);
    this.onSummary = opts.onSummary || (() => {});
    this.onRead = opts.onRead || (() => {});
    this.onOwnMessage = opts.onOwnMessage || (() => {});

    const $ = (id) => document.getElementById(id);
    this.root = $('conversation');
    this.emptyState = $('empty-state');
    this.el = {
      contact: $('conv-contact'),
      channel: $('conv-channel'),
      queue: $('conv-queue'),
      state: $('conv-state'),
      extra: $('conv-extra'),
      timeline: $('timeline'),
      typing: $('typing-indicator'),
      composer: $('composer'),
      input: $('composer-input'),
      send: $('composer-send'),
      note: $('composer-note-toggle'),
      canned: $('canned-select'),
      hint: $('composer-hint'),
      transferSelect: $('transfer-select'),
      transferSubmit: $('transfer-submit'),
      wrapupSelect: $('wrapup-select'),
      wrapupSubmit: $('wrapup-submit'),
      resolve: $('resolve'),
      workOrder: $('work-order-link'),
    };

    this.id = null;
    this.summary = null;
    this.loading = false;
    this.opening = false;
    this.loadSeq = 0;
    this.pending = [];             // frames that arrived while the timeline was loading
    this.messageNodes = new Map(); // message id → node
    this.statuses = new Map();     // message id → best known status (may precede the message)
    this.drafts = new Map();
    this.sending = false;
    this.actionBusy = false;
    this.canned = [];
    this.typingState = { active: false, convId: null, lastSent: 0, idleTimer: null };
    this.remoteTypingTimer = null;
    this.readTimer = null;

    this.call = new CallPanel($('call-panel'), {
      me: this.me, queueName: this.queueName, onChange: () => this.updateHeader(),
    });

    this.cannedMenu = new CannedMenu(this.el.input, {
      items: () => this.canned, values: () => this.cannedValues(), onInsert: () => this.onInput(),
    });
    this.emoji = new EmojiPicker(this.el.canned.parentElement, (emoji) => this.insertText(emoji));
    this.el.canned.insertAdjacentElement('afterend', this.emoji.wrap);
    this.files = new FileButton((file) => this.sendFile(file));
    this.emoji.wrap.insertAdjacentElement('afterend', this.files.wrap);
    this.contactValues = null; // { contactId, promise } of the open conversation's contact attributes
    this.focusOnReady = false;
    this.limits = { reply: DEFAULT_LIMIT, note: DEFAULT_LIMIT }; // from the server, per conversation

    this.bind();
    this.renderEmpty();
  }

  /** Put the caret in the reply box once the conversation is open and hers (after accepting an offer). */
  focusWhenReady() {
    this.focusOnReady = true;
    this.takeFocus();
  }

  takeFocus() {
    if (!this.focusOnReady || !this.canCompose()) return;
    this.focusOnReady = false;
    this.el.input.focus();
  }

  setMe(me) { this.me = { ...this.me, ...me }; this.call.setMe(this.me); }

  /** A `call` frame (console/live.py): the open conversation's call panel follows it. */
  onCallFrame(frame) {
    if (frame && frame.conversation_id === this.id) this.call.onFrame(frame);
  }

  // ------------------------------------------------------------ lookups

  setQueues(queues) {
    const sel = this.el.transferSelect;
    clear(sel);
    sel.appendChild(h('option', { value: '', text: tr('conv.transfer_to') }));
    for (const q of queues) sel.appendChild(h('option', { value: q.id, text: q.name || q.id }));
    this.call.setQueues(queues);
    this.updateHeader();
  }

  setCodes(codes) {
    const sel = this.el.wrapupSelect;
    clear(sel);
    sel.appendChild(h('option', { value: '', text: tr('conv.wrap_up_code') }));
    for (const c of codes) sel.appendChild(h('option', { value: c.code, text: c.label || c.code }));
  }

  setCanned(canned) {
    this.canned = canned;
    const sel = this.el.canned;
    clear(sel);
    sel.appendChild(h('option', { value: '', text: canned.length ? tr('conv.canned_replies') : tr('conv.no_canned_replies') }));
    for (const c of canned) {
      sel.appendChild(h('option', { value: c.id, text: c.title || c.id, title: c.text || '' }));
    }
  }

  // ------------------------------------------------------------ state helpers

  isMine(s = this.summary) {
    if (!s) return false;
    return (s.state === 'assigned' || s.state === 'wrap_up')
      && (s.agent_id == null || !this.me || s.agent_id === this.me.id);
  }

  isVoice(s = this.summary) {
    return !!s && s.channel === 'voice';
  }

  canCompose() {
    return !!this.id && !this.opening && this.isMine() && !this.isVoice();
  }

  // ------------------------------------------------------------ open / close

  renderEmpty() {
    this.call.hide();
    this.root.hidden = true;
    this.root.removeAttribute('data-conversation-id');
    this.emptyState.hidden = false;
  }

  close() {
    this.stopTyping();
    this.saveDraft();
    this.id = null;
    this.summary = null;
    this.loadSeq += 1;
    this.loading = false;
    this.opening = false;
    this.pending = [];
    this.renderEmpty();
  }

  async open(id, hint) {
    if (!id) return;
    if (this.id === id && !this.opening) {
      this.markRead();
      return;
    }
    this.stopTyping();
    this.saveDraft();
    this.call.hide();
    this.id = id;
    this.summary = hint || { id };
    this.root.dataset.conversationId = id;
    this.root.hidden = false;
    this.emptyState.hidden = true;
    this.showTyping(false);
    this.el.input.value = this.drafts.get(id) || '';
    this.limits = { reply: DEFAULT_LIMIT, note: DEFAULT_LIMIT };
    this.el.transferSelect.value = '';
    this.el.wrapupSelect.value = '';
    this.updateHeader();
    await this.load({ initial: true });
  }

  /** (Re)load the timeline of the open conversation from the server. */
  async load({ initial = false } = {}) {
    const id = this.id;
    if (!id) return;
    const seq = ++this.loadSeq;
    const tl = this.el.timeline;
    const atBottom = this.isNearBottom();
    const prevScroll = tl.scrollTop;
    this.loading = true;
    this.opening = initial;
    this.pending = [];
    if (initial) {
      this.messageNodes.clear();
      this.statuses.clear();
      clear(tl);
      tl.appendChild(h('div', { class: 'timeline-loading', text: tr('conv.loading_conversation') }));
      tl.setAttribute('aria-busy', 'true');
    }
    this.updateComposer();
    try {
      const data = await api.get(convPath(id));
      if (seq !== this.loadSeq) return;
      if (data.limits) this.limits = { reply: data.limits.reply || DEFAULT_LIMIT, note: data.limits.note || DEFAULT_LIMIT };
      if (data.conversation) {
        this.summary = { ...this.summary, ...data.conversation };
        this.onSummary(data.conversation);
      }
      this.renderTimeline(Array.isArray(data.timeline) ? data.timeline : []);
      this.loading = false;
      this.opening = false;
      const pending = this.pending;
      this.pending = [];
      for (const fn of pending) fn();
      if (initial || atBottom) this.scrollToBottom();
      else tl.scrollTop = prevScroll;
      this.updateHeader();
      this.updateComposer();
      this.takeFocus();
      if (initial) this.markRead();
    } catch (err) {
      if (seq !== this.loadSeq) return;
      this.loading = false;
      this.opening = false;
      if (!initial && err.status === 403) { this.close(); return; } // it left her sight (handed on)
      if (initial) {
        clear(tl);
        tl.appendChild(h('div', { class: 'timeline-error', text: err.message || tr('conv.could_not_load_the_conversation') }));
      }
      this.updateHeader();
      this.updateComposer();
      toastError(err);
    } finally {
      if (seq === this.loadSeq) tl.removeAttribute('aria-busy');
    }
  }

  // ------------------------------------------------------------ timeline

  renderTimeline(entries) {
    const tl = this.el.timeline;
    const keepStatuses = this.statuses;
    this.messageNodes = new Map();
    this.statuses = new Map(keepStatuses);
    const frag = document.createDocumentFragment();
    this.lastDay = '';
    for (const entry of entries) {
      const node = this.entryNode(entry);
      if (node) frag.append(...this.daySeparator(node), node);
    }
    clear(tl);
    const card = this.handoverCard(this.summary && this.summary.handover);
    if (card) tl.appendChild(card);
    tl.appendChild(frag);
    if (!entries.length) tl.appendChild(h('div', { class: 'timeline-empty', text: tr('conv.no_messages_yet') }));
  }

  /** What the bot learned before it handed over: reason, intents, entities, its transcript. */
  handoverCard(ho) {
    if (!ho || typeof ho !== 'object') return null;
    const pct = (c) => `${Math.round(Number(c || 0) * 100)}%`;
    const rows = [
      [tr('conv.reason'), String(ho.reason || '').replace(/_/g, ' ')],
      [tr('conv.intent'), ho.intent ? `${ho.intent} (${pct(ho.confidence)})` : '—'],
      [tr('conv.language'), ho.language || '—'],
    ];
    const dl = h('dl', { class: 'handover-facts' });
    for (const [k, v] of rows) dl.append(h('dt', { text: k }), h('dd', { 'data-testid': `handover-${k.toLowerCase()}`, text: v }));
    const intents = (ho.intents || []).map((i) => `${i.intent} ${pct(i.confidence)}`).join(' → ');
    if (intents) dl.append(h('dt', { text: tr('conv.intents') }), h('dd', { text: intents }));
    const entities = Object.entries(ho.entities || {}).map(([k, v]) => `${k}: ${v}`).join(', ');
    if (entities) dl.append(h('dt', { text: tr('conv.details') }), h('dd', { text: entities }));
    const transcript = h('ol', { class: 'handover-transcript', 'data-testid': 'handover-transcript' });
    for (const line of ho.transcript || []) {
      transcript.appendChild(h('li', { class: `handover-${line.author === 'customer' ? 'customer' : 'bot'}`,
        text: `${line.author === 'customer' ? 'Customer' : 'Bot'}: ${line.text}` }));
    }
    return h('section', { class: 'handover-card', 'data-testid': 'handover-card' },
      h('h3', { text: tr('conv.handed_over_by_the_bot') }),
      h('p', { class: 'handover-summary', 'data-testid': 'handover-summary', text: ho.summary || '' }),
      dl, transcript, suggestionsNode(ho.intent, (text) => this.insertText(text)));
  }

  /** What a canned reply's variables are filled with in this conversation (canned.js): the contact's
   * name and attributes (account number), the agent's name, the conversation's id and channel. */
  async cannedValues() {
    const s = this.summary || {};
    const contactId = s.contact?.id;
    const values = {
      'contact.name': s.contact?.display_name, 'agent.name': this.me?.display_name,
      'conversation.id': s.id, 'conversation.channel': s.channel ? channelName(s.channel) : undefined,
    };
    if (!contactId) return values;
    if (!this.contactValues || this.contactValues.contactId !== contactId) {
      const promise = api.get(`/api/contacts/${encodeURIComponent(contactId)}`);
      this.contactValues = { contactId, promise };
      promise.catch(() => { if (this.contactValues?.promise === promise) this.contactValues = null; });
    }
    try {
      const { contact } = await this.contactValues.promise;
      for (const [key, value] of Object.entries(contact?.attributes || {})) values[`contact.${key}`] = value;
      if (contact?.display_name) values['contact.name'] = contact.display_name;
    } catch { /* the contact may have left her sight: what the summary says is enough */ }
    return values;
  }

  entryNode(entry) {
    if (!entry || typeof entry !== 'object') return null;
    if (entry.kind === 'message' && entry.message) return this.messageNode(entry.message);
    if (entry.kind === 'event' && entry.event) return this.eventNode(entry.event);
    if (entry.kind === 'transcript' && entry.transcript) return this.transcriptNode(entry.transcript);
    return null;
  }

  /** A recorded call's transcript (call quality): one line per speaker's run of words, with its time. */
  transcriptNode(t) {
    const at = (ms) => `${Math.floor(ms / 60000)}:${String(Math.floor((ms % 60000) / 1000)).padStart(2, '0')}`;
    const rules = Array.isArray(t.rules) && t.rules.length ? ` · ${t.rules.join(', ')}` : '';
    const list = h('ol', { class: 'call-transcript-lines' });
    for (const line of Array.isArray(t.lines) ? t.lines : []) {
      list.appendChild(h('li', { class: `call-transcript-${line.speaker === 'agent' ? 'agent' : 'caller'}`,
        text: `${at(Number(line.start_ms) || 0)} ${line.speaker === 'agent' ? tr('conv.agent') : tr('conv.caller')}: ${line.text}` }));
    }
    return h('div', { class: 'timeline-transcript', 'data-testid': 'timeline-transcript' },
      h('div', { class: 'timeline-transcript-head', text: tr('conv.transcript_head', { score: t.score, rules }) }), list);
  }

  messageNode(m) {
    if (!m || m.id == null) return null;
    if (this.messageNodes.has(String(m.id))) return null;
    const author = ['customer', 'agent', 'bot', 'system'].includes(m.author) ? m.author : 'system';
    const isPrivate = m.private === true;
    const status = higherStatus(m.status || 'sent', this.statuses.get(String(m.id)));
    this.statuses.set(String(m.id), status);

    const text = h('div', { class: 'msg-text' }, linkNodes(m.text ?? ''));
    const who = h('span', { class: 'msg-author', text: m.author_name || (author === 'customer' ? (this.summary?.contact?.display_name || tr('conv.customer')) : author === 'agent' ? tr('conv.agent') : author === 'bot' ? tr('conv.bot') : tr('conv.system')) });
    const when = h('time', { class: 'msg-time', datetime: m.sent_at || '', title: fullTime(m.sent_at), text: clockTime(m.sent_at) });
    const ticks = h('span', { class: 'msg-ticks', 'aria-label': status, title: status });
    const meta = h('div', { class: 'msg-meta' }, channelBadge(m.channel), who, when);
    if ((author === 'agent' || author === 'bot') && !isPrivate) meta.appendChild(ticks);

    const bubble = h('div', { class: 'msg-bubble' });
    if (isPrivate) bubble.appendChild(h('div', { class: 'msg-note-label', text: tr('conv.internal_note') }));
    const subject = subjectNode(m);
    if (subject) bubble.appendChild(subject);
    bubble.appendChild(text);
    for (const extra of mailExtras(m)) bubble.appendChild(extra);

    const node = h('div', {
      class: `msg msg-${author}${isPrivate ? ' msg-note' : ''}`,
      'data-testid': 'timeline-message',
      'data-author': author,
      'data-private': String(isPrivate),
      'data-message-id': String(m.id),
      'data-status': status,
    }, bubble, meta);
    node._ticks = ticks;
    this.paintTicks(node, status);
    this.messageNodes.set(String(m.id), node);
    return node;
  }

  paintTicks(node, status) {
    paintStatus(node, node._ticks, status); // queued / sent / delivered / read / failed (status.js)
  }

  /** A "Today" / "3 Dec 2026" separator before ``node`` when its day differs from the last one's. */
  daySeparator(node) {
    const time = node.matches('time') ? node : node.querySelector('time[datetime]');
    const ts = time ? time.getAttribute('datetime') : '';
    const day = dayKey(ts);
    if (!day || day === this.lastDay) return [];
    this.lastDay = day;
    return [h('div', { class: 'day-separator', role: 'separator', 'data-testid': 'day-separator', text: dayLabel(ts) })];
  }

  eventNode(ev) {
    const sentence = eventSentence(ev, { queueName: this.queueName, meId: this.me && this.me.id });
    return h('div', {
      class: 'event',
      'data-testid': 'timeline-event',
      'data-event-type': ev.type || '',
      'data-to-state': ev.to_state || '',
    },
    h('span', { class: 'event-text', title: `${stateName(ev.from_state) || '—'} → ${stateName(ev.to_state) || '—'}`,
      text: sentence }),
    ev.at ? h('time', { class: 'event-time', datetime: ev.at, title: fullTime(ev.at), text: clockTime(ev.at) }) : null);
  }

  appendNode(node, { forceScroll = false } = {}) {
    if (!node) return;
    const tl = this.el.timeline;
    const stick = forceScroll || this.isNearBottom();
    const placeholder = tl.querySelector('.timeline-empty');
    if (placeholder) placeholder.remove();
    tl.append(...this.daySeparator(node), node);
    if (stick) this.scrollToBottom();
  }

  isNearBottom() {
    const tl = this.el.timeline;
    return tl.scrollHeight - tl.scrollTop - tl.clientHeight < 80;
  }

  scrollToBottom() {
    const tl = this.el.timeline;
    tl.scrollTop = tl.scrollHeight;
  }

  // ------------------------------------------------------------ live updates

  /** `message` frame or POST answer for the open conversation. */
  addMessage(message, { own = false } = {}) {
    if (!message) return;
    if (this.loading) { this.pending.push(() => this.addMessage(message, { own })); return; }
    if (message.id != null && this.messageNodes.has(String(message.id))) {
      if (message.status) this.setStatus(message.id, message.status);
      return;
    }
    this.appendNode(this.messageNode(message), { forceScroll: own });
    if (message.author === 'customer') {
      this.showTyping(false);
      this.scheduleRead();
    }
  }

  setStatus(messageId, status) {
    if (messageId == null || !status) return;
    const key = String(messageId);
    const best = higherStatus(this.statuses.get(key) || 'sent', status);
    this.statuses.set(key, best);
    const node = this.messageNodes.get(key);
    if (node) this.paintTicks(node, best);
  }

  showTyping(active) {
    clearTimeout(this.remoteTypingTimer);
    this.el.typing.hidden = !active;
    if (active) {
      this.remoteTypingTimer = setTimeout(() => { this.el.typing.hidden = true; }, REMOTE_TYPING_TIMEOUT_MS);
    }
  }

  /** A Summary for the open conversation (conversation frame / action answer). */
  updateSummary(summary) {
    if (!summary || summary.id !== this.id || isStale(this.summary, summary)) return;
    const prevState = this.summary && this.summary.state;
    this.summary = { ...this.summary, ...summary };
    this.updateHeader();
    this.updateComposer();
    this.takeFocus();
    if (prevState && summary.state && summary.state !== prevState && !this.loading) {
      // Pull the server's event entries for the transition.
      this.load();
      if (this.isVoice()) this.call.refresh();
    }
  }

  // ------------------------------------------------------------ header / actions

  updateHeader() {
    const s = this.summary;
    if (!s) return;
    const contact = s.contact || {};
    setText(this.el.contact, contact.display_name || contact.id || tr('conv.unknown_contact'));
    if (this.el.channel.dataset.channel !== String(s.channel)) {
      this.el.channel.dataset.channel = String(s.channel);
      this.el.channel.replaceChildren(s.channel ? channelBadge(s.channel) : '');
      this.el.channel.title = s.channel ? channelName(s.channel) : '';
    }
    setText(this.el.queue, s.queue ? this.queueName(s.queue) : '');
    this.el.queue.hidden = !s.queue;
    setText(this.el.state, stateName(s.state));
    this.el.state.className = `state-pill state-${slug(s.state)}`;
    this.el.state.dataset.state = s.state || '';
    this.root.dataset.state = s.state || '';
    const voice = this.isVoice(s);
    this.el.composer.hidden = voice; // a call carries no text: the call panel instead
    if (voice && this.id) this.call.follow(this.id);
    else if (s.channel) this.call.hide();
    const extra = [];
    if (Number(s.priority) > 0) extra.push(tr('conv.priority', { priority: s.priority }));
    if (s.wrap_up_code) extra.push(tr('conv.wrap_up_label', { code: this.codeLabel(s.wrap_up_code) }));
    setText(this.el.extra, extra.join(' · '));
    if (this.el.workOrder && this.id) this.el.workOrder.href = `/console/work_orders?conversation=${encodeURIComponent(this.id)}`;

    const busy = this.actionBusy || this.opening;
    const mine = this.isMine(s);
    // A call moves with its own Transfer (the call panel), which takes the caller along.
    this.el.transferSelect.disabled = busy || !(mine && s.state === 'assigned') || voice;
    this.el.transferSubmit.disabled = this.el.transferSelect.disabled;
    // While the caller is on the line the call ends first (Hang up): wrap-up follows on its own.
    const onCall = voice && this.call.isLive();
    // A call's end puts it in wrap-up by itself: its code is chosen there (while none is set yet).
    const codeAfterCall = voice && s.state === 'wrap_up' && !s.wrap_up_code;
    this.el.wrapupSelect.disabled = busy || !(mine && (s.state === 'assigned' || codeAfterCall)) || onCall;
    this.el.wrapupSubmit.disabled = this.el.wrapupSelect.disabled;
    // Resolving while the caller is on the line ends her leg: the caller hears the satisfaction
    // survey (or, surveys off, the call ends), never left on a finished conversation.
    this.el.resolve.disabled = busy || !mine;
    this.el.resolve.title = onCall ? tr('conv.resolve_on_call') : '';
  }

  codeLabel(code) {
    const opt = Array.from(this.el.wrapupSelect.options).find((o) => o.value === code);
    return opt ? opt.textContent : code;
  }

  updateComposer() {
    const can = this.canCompose();
    const { input, send, note, canned, hint, composer } = this.el;
    input.disabled = !can;
    note.disabled = !can;
    canned.disabled = !can;
    this.emoji.disabled = !can;
    this.files.disabled = !can || this.sending || note.checked; // a note carries no file
    if (!can) this.cannedMenu.close();
    const length = this.lengthState();
    send.disabled = !can || this.sending || length.over;
    composer.classList.toggle('is-note', note.checked);
    composer.classList.toggle('is-disabled', !can);
    send.textContent = note.checked ? tr('conv.add_note') : tr('conv.send');
    input.placeholder = note.checked
      ? tr('conv.write_an_internal_note_only_agents_c')
      : tr('conv.write_a_reply');
    const s = this.summary;
    let msg = tr('conv.enter_to_send_shift_enter_for_a_new');
    if (this.id && !this.opening && !can && s) {
      if (s.state === 'offered') msg = tr('conv.accept_the_offer_to_reply');
      else if (s.state === 'queued') msg = tr('conv.read_only_this_conversation_is_waiti');
      else if (s.state === 'resolved' || s.state === 'closed') msg = tr('conv.this_conversation_is_resolved');
      else msg = tr('conv.read_only_this_conversation_is_handl');
    }
    if (can && input.value) {
      msg = length.hint; // a counter in the channel's unit, or why it cannot be sent
      if (!length.over && s && s.channel === 'sms' && !note.checked) msg = `${segmentHint(input.value)} · ${msg}`;
    }
    hint.classList.toggle('is-over', can && length.over);
    hint.dataset.over = String(can && length.over);
    setText(hint, msg);
  }

  /** The reply box's text against the open conversation's limit (a note's when writing one). */
  lengthState(text = this.el.input.value.trim()) {
    const note = this.el.note.checked;
    const label = note ? tr('limit.a_note') : (this.summary?.channel ? channelName(this.summary.channel) : tr('limit.this_channel'));
    return lengthState(text, note ? this.limits.note : this.limits.reply, label);
  }

  async action(name, body, button) {
    if (!this.id || this.actionBusy) return;
    const id = this.id;
    this.actionBusy = true;
    this.updateHeader();
    if (button) button.classList.add('is-busy');
    try {
      const data = await api.post(convPath(id, name), body);
      if (data && data.conversation) {
        this.onSummary(data.conversation);
        this.updateSummary(data.conversation);
      }
      return true;
    } catch (err) {
      toastError(err);
      return false;
    } finally {
      this.actionBusy = false;
      if (button) button.classList.remove('is-busy');
      this.updateHeader();
    }
  }

  // ------------------------------------------------------------ composer

  bind() {
    const el = this.el;
    el.composer.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.send();
    });
    el.input.addEventListener('keydown', (ev) => {
      if (this.cannedMenu.onKey(ev)) return; // the "/" menu's arrows, Enter, Tab and Esc
      if (ev.key !== 'Enter' || ev.shiftKey || ev.altKey) return;
      if (ev.isComposing || ev.keyCode === 229) return; // IME (e.g. pinyin) candidate selection
      ev.preventDefault();
      this.send();
    });
    el.input.addEventListener('input', () => this.onInput());
    el.note.addEventListener('change', () => {
      if (el.note.checked) this.stopTyping();
      this.updateComposer();
      el.input.focus();
    });
    el.canned.addEventListener('change', () => {
      const item = this.canned.find((c) => String(c.id) === el.canned.value);
      el.canned.value = '';
      if (item) this.cannedValues().then((values) => this.insertText(fillCanned(item.text || '', values)));
    });
    el.transferSubmit.addEventListener('click', async () => {
      const queue = el.transferSelect.value;
      if (!queue) { toast(tr('conv.choose_a_queue_to_transfer_to')); el.transferSelect.focus(); return; }
      if (await this.action('transfer', { queue }, el.transferSubmit)) el.transferSelect.value = '';
    });
    el.wrapupSubmit.addEventListener('click', async () => {
      const code = el.wrapupSelect.value;
      if (!code) { toast(tr('conv.choose_a_wrap_up_code')); el.wrapupSelect.focus(); return; }
      if (await this.action('wrap_up', { code }, el.wrapupSubmit)) el.wrapupSelect.value = '';
    });
    el.resolve.addEventListener('click', () => this.action('resolve', {}, el.resolve));
  }

  insertText(text) {
    const input = this.el.input;
    if (input.disabled) return;
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.value = input.value.slice(0, start) + text + input.value.slice(end); // never cut: the counter says
    const pos = Math.min(start + text.length, input.value.length);
    input.focus();
    input.setSelectionRange(pos, pos);
    this.onInput();
  }

  saveDraft() {
    if (!this.id) return;
    const v = this.el.input.value;
    if (v) this.drafts.set(this.id, v); else this.drafts.delete(this.id);
  }

  async send() {
    if (!this.canCompose() || this.sending) return;
    const input = this.el.input;
    const raw = input.value;
    const text = raw.trim();
    if (!text) return;
    const length = this.lengthState(text);
    if (length.over) { toast(length.hint); return; } // the server refuses it too (hub/domain/reply_limits.py)
    const isNote = this.el.note.checked;
    const id = this.id;
    await this.whileSending(id, async () => {
      this.stopTyping();
      const data = await api.post(convPath(id, 'messages'), { text, private: isNote });
      const message = data && data.message ? { ...data.message, private: data.message.private ?? isNote } : null;
      if (message) this.onOwnMessage(id, message);
      if (this.id === id) {
        if (input.value === raw) input.value = '';
        if (message) this.addMessage(message, { own: true });
      }
      this.drafts.delete(id);
    });
  }

  /** Send a file with the reply box's text as its caption (composer_files.js). */
  async sendFile(file) {
    if (!this.canCompose() || this.sending || this.el.note.checked) return;
    const id = this.id;
    const input = this.el.input;
    const caption = input.value.trim();
    await this.whileSending(id, async () => {
      const data = await uploadFile(id, file, caption);
      if (data.message) this.onOwnMessage(id, data.message);
      if (this.id === id) {
        if (input.value.trim() === caption) input.value = '';
        if (data.message) this.addMessage(data.message, { own: true });
      }
    });
  }

  /** The composer's frame around one send: busy while `fn` runs, its failure toasted, and the
   * reply box focused again after, if the agent is still on conversation `id`. */
  async whileSending(id, fn) {
    const input = this.el.input;
    this.sending = true;
    this.updateComposer();
    try {
      await fn();
    } catch (err) {
      toastError(err);
    } finally {
      this.sending = false;
      this.updateComposer();
      if (this.id === id && !input.disabled) input.focus();
    }
  }

  // ------------------------------------------------------------ my typing → hub

  onInput() {
    this.updateComposer(); // the length counter
    if (!this.canCompose() || this.el.note.checked) return;
    const t = this.typingState;
    if (!this.el.input.value.trim()) { this.stopTyping(); return; }
    const now = Date.now();
    if (now - t.lastSent >= TYPING_THROTTLE_MS) {
      t.lastSent = now;
      t.active = true;
      t.convId = this.id;
      this.postTyping(this.id, true);
    }
    clearTimeout(t.idleTimer);
    t.idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  stopTyping() {
    const t = this.typingState;
    clearTimeout(t.idleTimer);
    t.idleTimer = null;
    if (t.active && t.convId) {
      this.postTyping(t.convId, false);
    }
    t.active = false;
    t.convId = null;
  }

  postTyping(id, active) {
    api.post(convPath(id, 'typing'), { active }).catch((err) => {
      // Typing is best effort; only surface authentication problems (handled by api.js).
      if (err && err.status === 401) return;
    });
  }

  // ------------------------------------------------------------ read receipts

  markRead() {
    if (!this.id || !this.isMine()) return;
    if (document.visibilityState === 'hidden') return;
    const id = this.id;
    clearTimeout(this.readTimer);
    this.readTimer = null;
    this.onRead(id);
    api.post(convPath(id, 'read'), {}).catch(() => { /* best effort */ });
  }

  scheduleRead() {
    if (this.readTimer || document.visibilityState === 'hidden') return;
    this.readTimer = setTimeout(() => { this.readTimer = null; this.markRead(); }, 400);
  }
}
