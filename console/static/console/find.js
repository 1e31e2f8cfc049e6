// Find, take and hand on (docs/api.md, "Find, take and hand on"): the search panel with its views
// and counts, and the conversation tools (take, reopen, labels, transfer to a named agent with a
// note). Every text from the server goes in as text (h() sets textContent), never as markup.
import { api, convPath, request } from './api.js';
import { h, clear, setText, channelBadge, stateName, relTime, toast, toastError } from './render.js';
import { t as tr } from './i18n.js';
import { panelAction } from './panel_action.js';

const VIEWS = [
  ['open', tr('find.all_open')], ['mine', tr('find.mine')], ['team', tr('find.my_team')], ['queued', tr('find.queued')], ['resolved', tr('find.resolved')],
];

export class FindPanel {
  /** root: the panel's section; opts: onOpen(summary), queueName(id) */
  constructor(root, opts) {
    this.root = root;
    this.onOpen = opts.onOpen;
    this.queueName = opts.queueName || ((id) => id);
    this.seq = 0;
    this.input = h('input', {
      type: 'search', id: 'find-input', 'data-testid': 'find-input', maxlength: '200',
      placeholder: tr('find.search_text_name_phone_e_mail_id'), 'aria-label': tr('find.search_conversations'),
    });
    this.view = h('select', { id: 'find-view', 'data-testid': 'find-view', 'aria-label': tr('find.view') },
      VIEWS.map(([value, label]) => h('option', { value, text: label })));
    this.label = h('select', { 'data-testid': 'find-label', 'aria-label': tr('find.filter_by_label') },
      h('option', { value: '', text: tr('find.any_label') }));
    this.list = h('ul', { class: 'conv-list find-results', 'data-testid': 'find-results' });
    this.note = h('p', { class: 'section-empty find-note', 'data-testid': 'find-note', role: 'status' });
    const form = h('form', { class: 'find-form', role: 'search', onsubmit: (ev) => { ev.preventDefault(); this.run(); } },
      this.input, h('div', { class: 'find-filters' }, this.view, this.label),
      h('button', { type: 'submit', class: 'btn', 'data-testid': 'find-submit', text: tr('find.find') }));
    this.view.addEventListener('change', () => this.run());
    this.label.addEventListener('change', () => this.run());
    clear(root);
    root.append(h('h2', { class: 'section-title', text: tr('find.find') }), form, this.list, this.note);
  }

  async loadLabels() {
    try {
      const { labels } = await api.get('/api/labels');
      const current = this.label.value;
      clear(this.label);
      this.label.append(h('option', { value: '', text: tr('find.any_label') }),
        ...(labels || []).map((l) => h('option', { value: l, text: l })));
      this.label.value = (labels || []).includes(current) ? current : '';
    } catch { /* the filter stays as it was */ }
  }

  async run() {
    const seq = ++this.seq;
    const params = new URLSearchParams({ view: this.view.value });
    const q = this.input.value.trim();
    if (q) params.set('q', q);
    if (this.label.value) params.set('label', this.label.value);
    try {
      const data = await api.get(`/api/conversations?${params}`);
      if (seq !== this.seq) return;
      this.render(data);
    } catch (err) {
      if (seq === this.seq) { clear(this.list); setText(this.note, err.message || tr('find.search_failed')); }
    }
  }

  render(data) {
    const counts = data.counts || {};
    for (const option of this.view.options) {
      const name = VIEWS.find(([v]) => v === option.value)[1];
      option.textContent = `${name} (${counts[option.value] ?? 0}${data.capped ? '+' : ''})`;
    }
    clear(this.list);
    for (const s of data.conversations || []) {
      const name = (s.contact && s.contact.display_name) || tr('find.unknown_customer');
      const item = h('li', { class: 'conv-item', 'data-testid': 'find-item', dataset: { id: s.id } },
        h('button', { type: 'button', class: 'conv-open', 'data-testid': 'find-open', onclick: () => this.onOpen(s) },
          h('span', { class: 'conv-name', text: name }),
          h('span', { class: 'conv-meta' }, channelBadge(s.channel),
            h('span', { class: 'state-pill', 'data-testid': 'find-state', text: stateName(s.state) }),
            h('span', { class: 'conv-queue-name', text: s.queue ? this.queueName(s.queue) : '' }),
            h('span', { class: 'conv-time', text: relTime(s.updated_at) })),
          h('span', { class: 'conv-preview', text: s.preview || '' })),
        labelChips(s.labels));
      this.list.appendChild(item);
    }
    setText(this.note, (data.conversations || []).length ? '' : tr('find.no_conversation_found'));
  }
}

function labelChips(labels) {
  return h('span', { class: 'labels', 'data-testid': 'labels' },
    (labels || []).map((l) => h('span', { class: 'label-chip', 'data-testid': 'label-chip', text: l })));
}

export class ConversationTools {
  /** root: the tools bar in the conversation pane; opts: me, onSummary(summary), onGone(id) */
  constructor(root, opts) {
    this.root = root;
    this.me = opts.me;
    this.onSummary = opts.onSummary;
    this.onGone = opts.onGone;
    this.summary = null;
    this.busy = false;
    this.take = h('button', { type: 'button', class: 'btn btn-primary', 'data-testid': 'pick', text: tr('find.take_it'),
      onclick: () => this.act('pick', {}, tr('find.taken_it_is_yours_now')) });
    this.reopen = h('button', { type: 'button', class: 'btn', 'data-testid': 'reopen', text: tr('find.reopen'),
      onclick: () => this.act('reopen', {}, tr('find.reopened_back_in_its_queue')) });
    this.transferNote = h('p', { class: 'transfer-info', 'data-testid': 'transfer-info' });
    this.labels = h('span', { class: 'labels', 'data-testid': 'conv-labels' });
    this.labelInput = h('input', { type: 'text', maxlength: '40', 'data-testid': 'label-input',
      'aria-label': tr('find.new_label'), placeholder: tr('find.add_a_label') });
    const labelForm = h('form', { class: 'label-form', onsubmit: (ev) => { ev.preventDefault(); this.addLabel(); } },
      this.labelInput, h('button', { type: 'submit', class: 'btn', 'data-testid': 'label-add', text: tr('find.add') }));
    this.agentSelect = h('select', { 'data-testid': 'transfer-agent', 'aria-label': tr('find.transfer_to_a_colleague') },
      h('option', { value: '', text: tr('find.transfer_to_a_colleague_2') }));
    this.note = h('textarea', { rows: '2', maxlength: '2000', 'data-testid': 'transfer-note',
      'aria-label': tr('find.note_for_the_colleague'), placeholder: tr('find.note_for_the_colleague_private') });
    this.handOn = h('button', { type: 'button', class: 'btn', 'data-testid': 'transfer-agent-submit',
      text: tr('find.hand_on'), onclick: () => this.transfer() });
    this.handOnGroup = h('div', { class: 'hand-on' }, this.agentSelect, this.note, this.handOn);
    clear(root);
    root.append(h('div', { class: 'tools-row' }, this.take, this.reopen, this.labels, labelForm),
      this.transferNote, this.handOnGroup);
    this.follow(null);
  }

  setMe(me) { this.me = { ...this.me, ...me }; this.follow(this.summary); }

  async loadColleagues() {
    try {
      const { colleagues } = await api.get('/api/colleagues');
      clear(this.agentSelect);
      this.agentSelect.append(h('option', { value: '', text: tr('find.transfer_to_a_colleague_2') }),
        ...(colleagues || []).filter((c) => !this.me || c.id !== this.me.id)
          .map((c) => h('option', { value: c.id, text: `${c.display_name} (${c.status})` })));
    } catch { /* the named transfer stays unavailable */ }
  }

  follow(summary) {
    this.summary = summary && summary.state ? summary : null;
    const s = this.summary;
    this.root.hidden = !s;
    if (!s) return;
    const mine = this.me && s.agent_id === this.me.id;
    const serves = this.me && (this.me.role === 'agent' || this.me.role === 'team_leader');
    this.take.hidden = !(s.state === 'queued' && serves && s.channel !== 'voice');
    this.reopen.hidden = s.state !== 'resolved';
    this.handOnGroup.hidden = !(mine && s.state === 'assigned' && s.channel !== 'voice');
    for (const b of [this.take, this.reopen, this.handOn]) b.disabled = this.busy;
    clear(this.labels);
    for (const l of s.labels || []) {
      this.labels.appendChild(h('span', { class: 'label-chip', 'data-testid': 'label-chip' }, l,
        h('button', { type: 'button', class: 'label-remove', 'aria-label': tr('find.remove_label', { label: l }), text: '×',
          onclick: () => this.removeLabel(l) })));
    }
    const t = s.transfer;
    setText(this.transferNote, t && t.to_agent && this.me && t.to_agent === this.me.id
      ? tr(t.note ? 'find.handed_on_note' : 'find.handed_on', { name: t.by_name || tr('find.a_colleague') }) : '');
  }

  act(action, body, done, { gone = false } = {}) {
    return panelAction(this, action, body, (data) => {
      if (gone) this.onGone(this.summary.id); // handed on: no longer hers to see
      else if (data.conversation) { this.onSummary(data.conversation); this.follow(data.conversation); }
      if (done) toast(done, { kind: 'info', timeout: 4000 });
    });
  }

  async transfer() {
    const agent = this.agentSelect.value;
    if (!agent) { toast(tr('find.choose_the_colleague_to_hand_it_on_t')); this.agentSelect.focus(); return; }
    const body = { agent };
    if (this.note.value.trim()) body.note = this.note.value.trim();
    const data = await this.act('transfer', body, null, { gone: true });
    if (!data) return;
    this.note.value = '';
    this.agentSelect.value = '';
    toast(data.offered_to ? tr('find.offered_to_your_colleague') : tr('find.your_colleague_cannot_take_it_now_it'),
      { kind: 'info', timeout: 5000 });
  }

  async addLabel() {
    const label = this.labelInput.value.trim();
    if (!label || !this.summary) return;
    try {
      const { labels } = await api.post(convPath(this.summary.id, 'labels'), { label });
      this.labelInput.value = '';
      this.relabel(labels);
    } catch (err) { toastError(err); }
  }

  async removeLabel(label) {
    if (!this.summary) return;
    try {
      const path = `${convPath(this.summary.id, 'labels')}/${encodeURIComponent(label)}`;
      const { labels } = await request('DELETE', path);
      this.relabel(labels);
    } catch (err) { toastError(err); }
  }

  relabel(labels) {
    const s = { ...this.summary, labels: labels || [] };
    this.onSummary(s);
    this.follow(s);
  }
}
