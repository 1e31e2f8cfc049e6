// The contact panel beside the conversation: one customer across channels. Readable identities
// with channel badges (a phone as a phone, a web visitor as "Web visitor #TAG", never its id),
// customer attributes (account number, address, meter id), link an identity, merge with another
// contact (found by a search), rename, and the history grouped by conversation. Live: a
// ``contact`` frame (renamed, identity linked, attributes, merged) or a conversation frame of the
// contact shown makes it read the contact again (the server decides what the viewer may see).
// Server data goes to the DOM only through textContent (render.js h()).
import { api, request } from './api.js';
import { h, clear, channelBadge, setText, toast, toastError } from './render.js';
import { renderHistory } from './contact_history.js';
import { t as tr } from './i18n.js';

const LINKABLE = [['sms', tr('contact.sms_phone')], ['email', tr('contact.email')], ['telegram', tr('contact.telegram')], ['voice', tr('contact.voice')]];
const ATTRIBUTES = [['account_number', tr('contact.account_number'), 40], ['address', tr('contact.address'), 300], ['meter_id', tr('contact.meter_id'), 40]];
const PAGE = 50;
const REFRESH_DELAY_MS = 250;

function contactPath(id, tail = '') {
  return `/api/contacts/${encodeURIComponent(id)}${tail}`;
}

function countsText(counts = {}) {
  const n = counts.conversations || 0;
  return [tr('contact.count_conversations', { count: n }), tr('contact.count_open', { count: counts.open || 0 }),
    tr('contact.count_messages', { count: counts.messages || 0 })].join(' · ');
}

export class ContactPanel {
  /** root: the <aside> beside the conversation; the server decides who may do what. */
  constructor(root, opts = {}) {
    this.root = root;
    this.me = opts.me || {};
    this.contactId = null;
    this.contact = null;
    this.older = null;
    this.messages = [];
    this.el = {};
    this.seq = 0;
    this.timer = null;
  }

  setMe(me) { this.me = { ...this.me, ...me }; }

  /** Follow the open conversation's summary: (re)load when its contact changed. */
  follow(summary) {
    const id = summary && summary.contact && summary.contact.id;
    if (!id) return;
    if (id !== this.contactId) this.open(id);
  }

  /** A ``contact`` frame: the contact shown (or the one merged into it) changed. */
  onContactFrame(frame) {
    if (!this.contactId || !frame) return;
    if (frame.contact_id === this.contactId) this.refreshSoon();
    else if (frame.merged_from && frame.merged_from === this.contactId) this.open(frame.contact_id);
  }

  /** A conversation frame: one of the shown contact's conversations moved (counts, history). */
  onConversation(summary) {
    if (this.contactId && summary && summary.contact && summary.contact.id === this.contactId) this.refreshSoon();
  }

  /** A conversation left the viewer's sight: if it was one of this contact's, what she may see changed. */
  onConversationGone(conversationId) {
    const mine = this.contact && (this.contact.conversations || []).some((c) => c.id === conversationId);
    if (mine) this.refreshSoon();
  }

  refreshSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.refresh().catch((err) => {
        if (err && (err.status === 403 || err.status === 404)) {  // out of her sight now: show nothing stale
          this.seq += 1;
          clear(this.root);
          this.root.appendChild(h('div', { class: 'contact-error', text: tr('contact.this_contact_is_no_longer_visible_to') }));
        }
      });
    }, REFRESH_DELAY_MS);
  }

  close() {
    this.contactId = null;
    this.root.hidden = true;
    clear(this.root);
  }

  load(contactId) {
    return Promise.all([api.get(contactPath(contactId)), api.get(`${contactPath(contactId, '/timeline')}?limit=${PAGE}`)]);
  }

  async open(contactId) {
    const seq = ++this.seq;
    this.contactId = contactId;
    this.root.hidden = false;
    clear(this.root);
    this.root.appendChild(h('div', { class: 'contact-loading', text: tr('contact.loading_contact') }));
    try {
      const [profile, page] = await this.load(contactId);
      if (seq !== this.seq) return;
      this.contact = profile.contact;
      this.contactId = profile.contact.id;
      this.messages = page.messages || [];
      this.older = page.older;
      this.render();
    } catch (err) {
      if (seq !== this.seq) return;
      clear(this.root);
      this.root.appendChild(h('div', { class: 'contact-error', text: err.message || tr('contact.could_not_load_the_contact') }));
    }
  }

  /** Read the contact again and update the panel in place (what the viewer types is kept). */
  async refresh() {
    const seq = this.seq;
    const [profile, page] = await this.load(this.contactId);
    if (seq !== this.seq || !this.contact) return;
    if (profile.contact.id !== this.contactId) { this.open(profile.contact.id); return; }
    const wasEditable = this.contact.may_edit !== false;
    this.contact = profile.contact;
    const fresh = page.messages || [];
    const ids = new Set(fresh.map((m) => m.id));
    const first = fresh.length ? fresh[0].sent_at : null;
    const kept = first ? this.messages.filter((m) => !ids.has(m.id) && m.sent_at < first) : [];
    this.messages = kept.concat(fresh);
    if (!kept.length) this.older = page.older;
    if (wasEditable !== (this.contact.may_edit !== false)) { this.render(); return; }
    this.paint();
  }

  render() {
    const c = this.contact;
    clear(this.root);
    this.el = {
      name: h('h2', { class: 'contact-name', 'data-testid': 'contact-name' }),
      counts: h('p', { class: 'contact-counts', 'data-testid': 'contact-counts' }),
      identities: h('ul', { class: 'contact-identities', 'data-testid': 'contact-identities' }),
    };
    const identities = h('section', { class: 'contact-section' }, h('h3', { text: tr('contact.identities') }), this.el.identities);
    // Changing a contact is for whoever serves one of its conversations now, and for supervisors
    // (hub.domain.visibility); the others read only.
    if (c.may_edit === false) {
      this.root.append(this.el.name, this.el.counts, identities, this.attributesBlock(false), this.historyBlock());
    } else {
      this.root.append(this.el.name, this.el.counts, this.renameForm(), identities, this.attributesBlock(true),
        this.linkForm(), this.mergeBlock(), this.historyBlock());
    }
    this.paint();
  }

  /** The parts a live update changes: name, counts, identities, attributes, history. */
  paint() {
    const c = this.contact;
    setText(this.el.name, c.display_name || tr('contact.unnamed_contact'));
    setText(this.el.counts, countsText(c.counts));
    if (this.el.renameInput && document.activeElement !== this.el.renameInput) this.el.renameInput.value = c.display_name || '';
    this.el.identities.replaceChildren(...(c.identity_labels || []).map((x) => this.identityItem(x)));
    const attrs = c.attributes || {};
    for (const [key] of ATTRIBUTES) {
      const field = this.el.attrs[key];
      if (field.tagName === 'INPUT') {
        if (document.activeElement !== field && !field.dataset.dirty) field.value = attrs[key] || '';
      } else setText(field, attrs[key] || '—');
    }
    this.el.more.hidden = !this.older;
    renderHistory(this.el.history, this.messages, c.conversations || []);
  }

  identityItem(x) {
    const item = h('li', { class: 'contact-identity', 'data-testid': 'contact-identity', 'data-channel': x.channel,
      'data-kind': x.kind },
    channelBadge(x.channel), h('span', { class: 'identity-address', text: x.label }),
    x.tag ? h('span', { class: 'identity-tag', title: tr('contact.tells_this_web_visitor_from_others'), text: x.tag }) : null);
    if (x.kind === 'phone' && x.channel === 'sms') item.appendChild(this.callButton(x.label));  // call it
    return item;
  }

  attributesBlock(editable) {
    this.el.attrs = {};
    const section = h('section', { class: 'contact-section', 'data-testid': 'contact-attributes' },
      h('h3', { text: tr('contact.customer_details') }));
    if (!editable) {
      const list = h('dl', { class: 'contact-attributes' });
      for (const [key, label] of ATTRIBUTES) {
        this.el.attrs[key] = h('dd', { 'data-testid': `contact-attr-${key}` });
        list.append(h('dt', { text: label }), this.el.attrs[key]);
      }
      section.appendChild(list);
      return section;
    }
    const form = h('form', { class: 'contact-form contact-attributes-form' });
    for (const [key, label, max] of ATTRIBUTES) {
      const input = h('input', { type: 'text', maxlength: String(max), 'data-testid': `contact-attr-${key}` });
      input.addEventListener('input', () => { input.dataset.dirty = '1'; });
      this.el.attrs[key] = input;
      form.appendChild(h('label', { class: 'contact-attribute' }, h('span', { text: label }), input));
    }
    form.appendChild(h('button', { type: 'submit', class: 'btn', text: tr('contact.save_details'), 'data-testid': 'contact-attr-save' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const changes = Object.fromEntries(ATTRIBUTES.map(([key]) => [key, this.el.attrs[key].value]));
      try {
        await this.change('PATCH', contactPath(this.contactId, '/attributes'), changes);
        for (const [key] of ATTRIBUTES) delete this.el.attrs[key].dataset.dirty;
        toast(tr('contact.details_saved'), { kind: 'info' });
      } catch { /* toasted */ }
    });
    section.appendChild(form);
    return section;
  }

  /** Call the customer: the agent's phone rings first, then the customer's (POST …/call). */
  callButton(address) {
    const button = h('button', { type: 'button', class: 'btn btn-ghost', text: tr('contact.call'),
      'aria-label': tr('contact.call_address', { address }), 'data-testid': 'contact-call' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api.post(contactPath(this.contactId, '/call'), {});
        toast(tr('contact.your_phone_is_ringing_answer_it_to_c'));
      } catch (err) { toastError(err); } finally { button.disabled = false; }
    });
    return button;
  }

  renameForm() {
    const input = h('input', { type: 'text', value: this.contact.display_name || '', maxlength: '120',
      'aria-label': tr('contact.contact_name'), 'data-testid': 'contact-rename-input' });
    this.el.renameInput = input;
    const form = h('form', { class: 'contact-form contact-rename' }, input,
      h('button', { type: 'submit', class: 'btn', text: tr('contact.rename'), 'data-testid': 'contact-rename-submit' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.change('PATCH', contactPath(this.contactId), { display_name: input.value });
    });
    return form;
  }

  linkForm() {
    const channel = h('select', { 'aria-label': tr('contact.channel'), 'data-testid': 'link-channel' },
      LINKABLE.map(([value, label]) => h('option', { value, text: label })));
    const address = h('input', { type: 'text', placeholder: tr('contact.86_138_or_name_example_org'), maxlength: '300',
      'aria-label': tr('contact.phone_e_mail_or_telegram_id'), 'data-testid': 'link-address' });
    const form = h('form', { class: 'contact-form' }, channel, address,
      h('button', { type: 'submit', class: 'btn', text: tr('contact.link'), 'data-testid': 'link-submit' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await this.change('POST', contactPath(this.contactId, '/identities'),
          { channel: channel.value, address: address.value }, { quiet: true });
        address.value = '';
      } catch (err) {
        if (err.status === 409 && err.body && err.body.error && err.body.error.other_contact_id) {
          toast(tr('contact.use_merge', { message: err.message }));
        } else toastError(err);
      }
    });
    return h('section', { class: 'contact-section' }, h('h3', { text: tr('contact.link_an_identity') }), form);
  }

  mergeBlock() {
    const q = h('input', { type: 'search', placeholder: tr('contact.name_phone_or_e_mail'), maxlength: '100',
      'aria-label': tr('contact.find_a_contact_to_merge'), 'data-testid': 'merge-search' });
    const results = h('ul', { class: 'merge-results', 'data-testid': 'merge-results' });
    const form = h('form', { class: 'contact-form' }, q,
      h('button', { type: 'submit', class: 'btn', text: tr('contact.find'), 'data-testid': 'merge-find' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(results);
      try {
        const data = await api.get(`/api/contacts?q=${encodeURIComponent(q.value)}`);
        const others = (data.contacts || []).filter((x) => x.id !== this.contactId);
        if (!others.length) results.appendChild(h('li', { class: 'merge-empty', text: tr('contact.no_other_contact_found') }));
        for (const other of others) results.appendChild(this.mergeCandidate(other));
      } catch (err) { toastError(err); }
    });
    return h('section', { class: 'contact-section' },
      h('h3', { text: tr('contact.merge_with_another_contact') }), form, results);
  }

  mergeCandidate(other) {
    const badges = Object.keys(other.identities || {}).map((ch) => channelBadge(ch));
    const button = h('button', { type: 'button', class: 'btn btn-danger-soft', text: tr('contact.merge_into_this_contact'),
      'data-testid': 'merge-submit' });
    button.addEventListener('click', async () => {
      const label = other.display_name || other.id;
      if (!window.confirm(tr('contact.merge_confirm', { label, name: this.contact.display_name }))) return;
      button.disabled = true;
      try {
        await this.change('POST', contactPath(this.contactId, '/merge'), { other: other.id });
        toast(tr('contact.contacts_merged'), { kind: 'info' });
      } catch { button.disabled = false; }
    });
    return h('li', { class: 'merge-candidate', 'data-testid': 'merge-candidate', 'data-contact-id': other.id },
      h('span', { class: 'merge-name', text: other.display_name || other.id }), ...badges, button);
  }

  historyBlock() {
    this.el.history = h('ol', { class: 'contact-history', 'data-testid': 'contact-history' });
    this.el.more = h('button', { type: 'button', class: 'btn btn-ghost', text: tr('contact.older_messages'),
      'data-testid': 'history-older', hidden: true });
    this.el.more.addEventListener('click', async () => {
      try {
        const next = await api.get(`${contactPath(this.contactId, '/timeline')}?limit=${PAGE}&before=${encodeURIComponent(this.older)}`);
        this.older = next.older;
        this.messages = (next.messages || []).concat(this.messages);
        this.paint();
      } catch (err) { toastError(err); }
    });
    return h('section', { class: 'contact-section' }, h('h3', { text: tr('contact.history_by_conversation') }), this.el.more,
      this.el.history);
  }

  /** A change that answers with the contact's profile: show it at once (merge: another contact). */
  async change(method, path, body, { quiet = false } = {}) {
    try {
      const data = await request(method, path, body);
      if (data.contact && data.contact.id !== this.contactId) await this.open(data.contact.id);
      else await this.refresh();
      return data;
    } catch (err) {
      if (!quiet) toastError(err);
      throw err;
    }
  }
}
