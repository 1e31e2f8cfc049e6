// Snooze (issue 16 item 2, ADR 0049): set a conversation I hold aside until a time (in an hour,
// tomorrow morning in the centre's zone, a time I pick), or wake it now. The inbox shows snoozed
// conversations in their own list; a `conversation` frame with event `woken` brings one back.
import { h, toast } from './render.js';
import { formatDate, t } from './i18n.js';
import { panelAction } from './panel_action.js';

/** "Snoozed until 5 Dec 2026, 09:00" in the chosen language. */
export function snoozedText(summary) {
  return summary && summary.snoozed_until ? t('snooze.until', { time: formatDate(summary.snoozed_until) }) : '';
}

/** The value for an <input type="datetime-local"> an hour from now (local time of the browser). */
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export class SnoozeControl {
  /** root: a container in the conversation header; opts: me, onSummary(summary) */
  constructor(root, opts) {
    this.root = root;
    this.me = opts.me;
    this.onSummary = opts.onSummary;
    this.summary = null;
    this.busy = false;
    this.choice = h('select', { 'data-testid': 'snooze-select', 'aria-label': t('snooze.choose') },
      h('option', { value: '', text: t('snooze.choose') }),
      h('option', { value: '1h', text: t('snooze.hour') }),
      h('option', { value: 'tomorrow', text: t('snooze.tomorrow') }),
      h('option', { value: 'pick', text: t('snooze.pick') }));
    this.when = h('input', { type: 'datetime-local', 'data-testid': 'snooze-time', 'aria-label': t('snooze.time'),
      hidden: true });
    this.submit = h('button', { type: 'button', class: 'btn', 'data-testid': 'snooze-submit', text: t('snooze.submit'),
      onclick: () => this.snooze() });
    this.status = h('span', { class: 'snooze-status', 'data-testid': 'snooze-status', role: 'status' });
    this.wake = h('button', { type: 'button', class: 'btn', 'data-testid': 'snooze-wake', text: t('snooze.wake'),
      onclick: () => this.act('wake', {}) });
    this.choice.addEventListener('change', () => {
      this.when.hidden = this.choice.value !== 'pick';
      if (!this.when.hidden && !this.when.value) this.when.value = localInputValue(new Date(Date.now() + 3600e3));
    });
    this.setGroup = h('div', { class: 'action-group snooze-set' }, this.choice, this.when, this.submit);
    this.wakeGroup = h('div', { class: 'action-group snooze-woken' }, this.status, this.wake);
    root.replaceChildren(this.setGroup, this.wakeGroup);
    this.follow(null);
  }

  follow(summary) {
    this.summary = summary && summary.state ? summary : null;
    const s = this.summary;
    const mine = !!s && !!this.me && s.agent_id === this.me.id && s.state === 'assigned';
    this.root.hidden = !mine;
    if (!mine) return;
    const snoozed = !!s.snoozed_until;
    this.setGroup.hidden = snoozed;
    this.wakeGroup.hidden = !snoozed;
    this.status.textContent = snoozedText(s);
    for (const el of [this.choice, this.submit, this.wake, this.when]) el.disabled = this.busy;
  }

  async snooze() {
    const value = this.choice.value;
    if (!value) { toast(t('snooze.choose_first')); this.choice.focus(); return; }
    let body = { preset: value };
    if (value === 'pick') {
      const at = this.when.value ? new Date(this.when.value) : null;  // the browser's local time
      if (!at || Number.isNaN(at.getTime())) { toast(t('snooze.time_first')); this.when.focus(); return; }
      body = { until: at.toISOString() };
    }
    const data = await this.act('snooze', body);
    if (data) {
      toast(snoozedText(data.conversation), { kind: 'info', timeout: 4000 });
      this.choice.value = '';
      this.when.hidden = true;
    }
  }

  act(action, body) {
    return panelAction(this, action, body, (data) => {
      if (data.conversation) { this.onSummary(data.conversation); this.summary = data.conversation; }
    });
  }
}
