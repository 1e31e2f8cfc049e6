// The call panel of a voice conversation (docs/api.md, "Calls"): caller, menu choice, a live status
// with a running timer, the call's steps, the agent's controls and a player per recording leg.
// Server data reaches the DOM only through render.js's h()/setText (textContent, setAttribute).
import { api, convPath } from './api.js';
import { h, clear, setText, clockTime, fullTime, mmss, parseTs, toast, toastError } from './render.js';
import { t as tr } from './i18n.js';

const LEG_NAMES = { mix: tr('call.both_sides'), caller: tr('call.caller_only'), agent: tr('call.agent_only') };
const PARTY_NAMES = { caller: tr('call.the_caller'), agent: tr('call.the_agent'), system: tr('call.the_system') };
const STEP_NAMES = {
  arrived: tr('call.call_arrived'), menu: tr('call.menu_choice'), queued: tr('call.queued'), ringing: tr('call.ringing'), no_answer: tr('call.not_answered'),
  answered: tr('call.answered'), held: tr('call.on_hold'), resumed: tr('call.taken_off_hold'), transferred: tr('call.transferred'),
  callback: tr('call.asked_for_a_call_back'), dialing: tr('call.dialling_the_customer'), connected: tr('call.the_customer_answered'),
  hung_up: tr('call.hung_up'), lost: tr('call.lost_by_the_phone_system'),
};
// What a live frame means for the status at once, before the call is read again.
const FRAME_STATES = { ringing: 'ringing', answered: 'talking', held: 'held', resumed: 'talking', ended: 'ended' };

/** "Menu 1 · Billing" from a call's choice and queue. */
export function menuText(call, queueName = (id) => id) {
  const parts = [];
  if (call.choice) parts.push(tr('call.menu_n', { choice: call.choice }));
  if (call.queue) parts.push(queueName(call.queue));
  if (call.callback) parts.push(tr('call.call_back_requested'));
  return parts.join(' · ') || tr('call.no_menu_choice');
}

function stepText(step, queueName) {
  const d = step.detail || {};
  const name = STEP_NAMES[step.step] || String(step.step || '');
  const who = step.agent_name || d.agent_id || '';
  switch (step.step) {
    case 'menu': return `${name}: ${d.choice ? `${d.choice} → ` : ''}${d.queue ? queueName(d.queue) : 'none'}`;
    case 'ringing': case 'answered': return who ? `${name} (${who})` : name;
    case 'no_answer': return `${name}${who ? ` by ${who}` : ''}${d.reason ? ` · ${String(d.reason).replace(/_/g, ' ')}` : ''}`;
    case 'transferred': return `${name}${d.queue ? ` to ${queueName(d.queue)}` : ''}${who ? ` by ${who}` : ''}`;
    case 'hung_up': case 'lost': return d.by ? `${name} by ${PARTY_NAMES[d.by] || d.by}` : name;
    default: return name;
  }
}

/** How long the part of the call that `steps[i]` closes lasted: "rang 00:04" (answered or not
 *  answered, since the ringing; a call back's customer, since the dialling), "held 00:12" (taken
 *  off hold), "talked 03:10" (hung up, since the answer, holds included) or "after 00:40" (hung up
 *  unanswered, since the call arrived); '' for the other steps. */
export function stepDuration(steps, i) {
  const since = (names) => {
    for (let j = i - 1; j >= 0; j -= 1) if (names.includes(steps[j].step)) return steps[j];
    return null;
  };
  const span = (from) => {
    const a = from ? parseTs(from.at) : null;
    const b = parseTs(steps[i].at);
    return a === null || b === null ? null : Math.max(0, (b - a) / 1000);
  };
  let label = '';
  let seconds = null;
  switch (steps[i].step) {
    case 'answered': case 'no_answer': label = 'rang'; seconds = span(since(['ringing'])); break;
    case 'connected': label = 'rang'; seconds = span(since(['dialing'])); break;
    case 'resumed': label = 'held'; seconds = span(since(['held'])); break;
    case 'hung_up': {
      // The answer of this leg (a call back's customer: connected); none after an earlier hang-up
      // (a call back starts again after the caller's).
      const answered = since(['answered', 'connected', 'hung_up']);
      if (answered && answered.step !== 'hung_up') { label = 'talked'; seconds = span(answered); }
      else { label = 'after'; seconds = span(since(['hung_up', 'arrived']) || steps[0]); }
      break;
    }
    default: break;
  }
  return seconds === null ? '' : `${label} ${mmss(seconds)}`;
}

export class CallPanel {
  /** opts: me, queueName(id), onChange() (the call's state changed: the header's buttons follow) */
  constructor(root, opts) {
    this.root = root;
    this.onChange = opts.onChange || (() => {});
    this.me = opts.me || {};
    this.queueName = opts.queueName || ((id) => id);
    this.id = null;
    this.call = null;
    this.loadedAt = 0;     // Date.now() when `call` was read: the timer counts on from there
    this.seq = 0;
    this.busy = false;
    this.queues = [];
    this.timer = null;
    this.build();
  }

  setMe(me) { this.me = { ...this.me, ...me }; this.paint(); }

  setQueues(queues) {
    this.queues = queues;
    const sel = this.el.transferSelect;
    clear(sel);
    sel.appendChild(h('option', { value: '', text: tr('call.transfer_the_call_to') }));
    for (const q of queues) sel.appendChild(h('option', { value: q.id, text: q.name || q.id }));
  }

  build() {
    const el = {};
    el.status = h('p', { class: 'call-status', 'data-testid': 'call-status', role: 'status', 'aria-live': 'polite' });
    el.caller = h('dd', { 'data-testid': 'call-caller' });
    el.menu = h('dd', { 'data-testid': 'call-menu' });
    el.agent = h('dd', { 'data-testid': 'call-agent' });
    el.times = h('dd', { 'data-testid': 'call-durations' });
    el.hold = h('button', { type: 'button', class: 'btn', 'data-testid': 'call-hold', 'aria-label': tr('call.put_the_caller_on_hold'), text: tr('call.hold') });
    el.transferSelect = h('select', { 'data-testid': 'call-transfer-select', 'aria-label': tr('call.queue_to_transfer_the_call_to') });
    el.transfer = h('button', { type: 'button', class: 'btn', 'data-testid': 'call-transfer', 'aria-label': tr('call.transfer_the_call_to_the_chosen_queu'), text: tr('call.transfer') });
    el.hangup = h('button', { type: 'button', class: 'btn btn-danger', 'data-testid': 'call-hangup', 'aria-label': tr('call.hang_up_the_call'), text: tr('call.hang_up') });
    el.steps = h('ol', { class: 'call-steps', 'data-testid': 'call-steps', 'aria-label': tr('call.call_timeline') });
    el.recordings = h('div', { class: 'call-recordings', 'data-testid': 'call-recordings' });
    el.note = h('p', { class: 'call-note', hidden: true });
    el.body = h('div', { class: 'call-body' },
      h('dl', { class: 'call-facts' },
        h('dt', { text: tr('call.caller') }), el.caller, h('dt', { text: tr('call.menu') }), el.menu,
        h('dt', { text: tr('call.agent') }), el.agent, h('dt', { text: tr('call.times') }), el.times),
      h('div', { class: 'call-controls', role: 'group', 'aria-label': tr('call.call_controls') },
        el.hold, el.transferSelect, el.transfer, el.hangup),
      h('details', { class: 'call-timeline', open: true }, h('summary', { text: tr('call.call_timeline') }), el.steps),
      el.recordings);
    this.root.replaceChildren(h('h2', { class: 'call-title', text: tr('call.phone_call') }), el.status, el.note, el.body);
    this.el = el;
    this.setQueues([]);
    el.hold.addEventListener('click', () => this.act(this.call && this.call.state === 'held' ? 'resume' : 'hold', {}, el.hold));
    el.hangup.addEventListener('click', () => this.act('hangup', {}, el.hangup));
    el.transfer.addEventListener('click', async () => {
      const queue = el.transferSelect.value;
      if (!queue) { toast(tr('call.choose_a_queue_to_transfer_the_call')); el.transferSelect.focus(); return; }
      if (await this.act('transfer', { queue }, el.transfer)) el.transferSelect.value = '';
    });
  }

  // ------------------------------------------------------------ open / close

  /** Show the call of conversation `id` (read once per conversation; `refresh` reads again). */
  follow(id) {
    if (this.id === id) return;
    this.hide();
    this.id = id;
    this.root.hidden = false;
    this.root.dataset.conversationId = id;
    this.showNote(tr('call.loading_the_call'));
    this.refresh();
  }

  hide() {
    this.id = null;
    this.call = null;
    this.seq += 1;
    this.root.hidden = true;
    this.root.removeAttribute('data-state');
    clearInterval(this.timer);
    this.timer = null;
  }

  async refresh() {
    const id = this.id;
    if (!id) return;
    const seq = ++this.seq;
    try {
      const data = await api.get(convPath(id, 'call'));
      if (seq !== this.seq) return;
      this.show(data.call);
    } catch (err) {
      if (seq !== this.seq) return;
      this.call = null;
      if (err.status === 404) this.showNote(tr('call.no_call_is_recorded_for_this_convers'));
      else if (err.status === 403) this.showNote(tr('call.this_call_is_not_yours_to_see'));
      else { this.showNote(tr('call.could_not_load_the_call')); toastError(err); }
      this.paint();
    }
  }

  showNote(text) {
    setText(this.el.note, text);
    this.el.note.hidden = !text;
    this.el.body.hidden = !!text;
  }

  /** A `call` frame of this conversation: the status at once, then the call as stored. */
  onFrame(frame) {
    if (!frame || frame.conversation_id !== this.id) return;
    const state = FRAME_STATES[frame.event];
    if (this.call && state) {
      const was = this.call.state;
      this.call = { ...this.call, state, ended_by: frame.by || this.call.ended_by };
      this.paint();
      if (was !== state) this.onChange();
    }
    this.refresh();
  }

  /** Talking, on hold or ringing: the caller is on the line. */
  isLive() {
    return !!this.call && ['ringing', 'talking', 'held'].includes(this.call.state);
  }

  show(call) {
    if (!call || typeof call !== 'object') return;
    const was = this.call && this.call.state;
    this.call = call;
    this.loadedAt = Date.now();
    this.showNote('');
    this.renderFacts();
    this.renderSteps();
    this.renderRecordings();
    this.paint();
    if (was !== call.state) this.onChange();
  }

  // ------------------------------------------------------------ rendering

  renderFacts() {
    const c = this.call;
    setText(this.el.caller, c.caller || tr('call.unknown_number'));
    setText(this.el.menu, menuText(c, this.queueName));
    setText(this.el.agent, c.agent ? (c.agent.display_name || c.agent.id) : '—');
  }

  renderSteps() {
    const steps = Array.isArray(this.call.steps) ? this.call.steps : [];
    const items = steps.map((s, i) => {
      const lasted = stepDuration(steps, i);
      return h('li', { class: `call-step call-step-${String(s.step).replace(/[^a-z_]/g, '')}`,
        'data-testid': 'call-step', 'data-step': s.step || '' },
      h('time', { datetime: s.at || '', title: fullTime(s.at), text: clockTime(s.at) }), ' ',
      h('span', { text: stepText(s, this.queueName) }),
      lasted ? h('span', { class: 'call-step-duration', 'data-testid': 'call-step-duration', text: ` · ${lasted}` }) : null);
    });
    this.el.steps.replaceChildren(...items);
  }

  renderRecordings() {
    const el = this.el.recordings;
    const recordings = Array.isArray(this.call.recordings) ? this.call.recordings : [];
    const shown = el.dataset.shown || '';
    const key = JSON.stringify(recordings);
    if (shown === key) return; // keep the players (and where they are) when nothing changed
    el.dataset.shown = key;
    const nodes = [];
    recordings.forEach((rec, i) => {
      for (const leg of rec.legs || []) {
        if (!LEG_NAMES[leg]) continue;
        const label = tr('call.recording', { n: i + 1, leg: LEG_NAMES[leg] });
        const src = `${convPath(this.id, 'recordings')}/${encodeURIComponent(rec.name)}/${encodeURIComponent(leg)}`;
        nodes.push(h('figure', { class: 'call-recording', 'data-testid': 'call-recording', 'data-leg': leg },
          h('figcaption', { text: label }),
          h('audio', { controls: true, preload: 'metadata', src, 'aria-label': label })));
      }
    });
    el.replaceChildren(...(nodes.length ? [h('h3', { text: tr('call.recordings') }), ...nodes] : []));
  }

  /** Status line, timer and buttons; every second while the call is live. */
  paint() {
    const c = this.call;
    const on = !!c && !this.busy;
    const mine = !!c && !!c.agent && c.agent.id === this.me.id;
    const talking = !!c && (c.state === 'talking' || c.state === 'held');
    this.el.hold.disabled = !(on && mine && talking);
    setText(this.el.hold, c && c.state === 'held' ? tr('call.resume') : tr('call.hold'));
    this.el.hold.setAttribute('aria-label', c && c.state === 'held' ? tr('call.take_the_caller_off_hold') : tr('call.put_the_caller_on_hold'));
    this.el.transferSelect.disabled = !(on && mine && talking);
    this.el.transfer.disabled = this.el.transferSelect.disabled;
    this.el.hangup.disabled = !(on && mine && talking);
    if (!c) { this.root.removeAttribute('data-state'); return; }
    this.root.dataset.state = c.state || '';
    setText(this.el.status, this.statusText(c));
    const d = this.durations(c);
    const parts = [tr('call.waited', { time: mmss(d.wait) })];
    if (d.talk !== null) parts.push(tr('call.talked', { time: mmss(d.talk) }));
    if (d.hold > 0) parts.push(tr('call.held_for', { time: mmss(d.hold) }));
    setText(this.el.times, parts.join(' · '));
    const live = c.state !== 'ended';
    if (live && !this.timer) this.timer = setInterval(() => this.paint(), 1000);
    if (!live && this.timer) { clearInterval(this.timer); this.timer = null; }
  }

  /** The stored durations, counted on since they were read while the call is live. */
  durations(c) {
    const d = c.durations || {};
    const since = c.state === 'ended' ? 0 : Math.max(0, (Date.now() - this.loadedAt) / 1000);
    const talking = c.state === 'talking' || c.state === 'held';
    return {
      wait: Number(d.wait_s || 0) + (c.state === 'waiting' || c.state === 'ringing' ? since : 0),
      talk: d.talk_s == null ? null : Number(d.talk_s) + (talking ? since : 0),
      hold: Number(d.hold_s || 0) + (c.state === 'held' && c.held_since ? since : 0),
    };
  }

  statusText(c) {
    const d = this.durations(c);
    const agent = c.agent ? (c.agent.display_name || c.agent.id) : '';
    switch (c.state) {
      case 'waiting': return tr('call.status_waiting', { time: mmss(d.wait) });
      case 'ringing': return c.agent && c.agent.id === this.me.id ? tr('call.your_phone_is_ringing') : (agent ? tr('call.status_ringing_at', { agent }) : tr('call.ringing'));
      case 'talking': return tr('call.status_talking', { time: mmss(d.talk) });
      case 'held': return tr('call.status_held', { talk: mmss(d.talk), hold: mmss(d.hold) });
      case 'ended': {
        const vars = { by: PARTY_NAMES[c.ended_by] || c.ended_by, time: c.ended_at ? clockTime(c.ended_at) : '' };
        const key = `call.ended${c.ended_by ? '_by' : ''}${c.ended_at ? '_at' : ''}`;
        return tr(key, vars);
      }
      default: return String(c.state || '');
    }
  }

  // ------------------------------------------------------------ controls

  async act(action, body, button) {
    if (!this.id || this.busy) return false;
    const id = this.id;
    this.busy = true;
    this.paint();
    button.classList.add('is-busy');
    try {
      const data = await api.post(convPath(id, `call/${action}`), body);
      if (this.id === id && data.call) this.show(data.call);
      return true;
    } catch (err) {
      toastError(err);
      return false;
    } finally {
      this.busy = false;
      button.classList.remove('is-busy');
      this.paint();
    }
  }
}
