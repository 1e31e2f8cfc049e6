// The contact panel beside the conversation: one customer across channels. Identities with
// channel badges, link an identity, merge with another contact (found by a search), rename,
// and the history of every conversation on every channel. Server data goes to the DOM only
// through textContent (render.js h()).
import { api, request } from './api.js';
import { h, clear, channelBadge, clockTime, fullTime, toast, toastError } from './render.js';
import { paintStatus } from './status.js';

const LINKABLE = [['sms', 'SMS / phone'], ['email', 'E-mail'], ['telegram', 'Telegram'], ['voice', 'Voice']];
const PAGE = 50;

function contactPath(id, tail = '') {
  return `/api/contacts/${encodeURIComponent(id)}${tail}`;
}

export class ContactPanel {
  /** root: the <aside> beside the conversation; the server decides who may do what. */
  constructor(root, opts = {}) {
    this.root = root;
    this.me = opts.me || {};
    this.contactId = null;
    this.contact = null;
    this.older = null;
    this.seq = 0;
  }

  setMe(me) { this.me = { ...this.me, ...me }; }

  /** Follow the open conversation's summary: (re)load when its contact changed. */
  follow(summary) {
    const id = summary && summary.contact && summary.contact.id;
    if (!id) return;
    if (id !== this.contactId) this.open(id);
  }

  close() {
    this.contactId = null;
    this.root.hidden = true;
    clear(this.root);
  }

  async open(contactId) {
    const seq = ++this.seq;
    this.contactId = contactId;
    this.root.hidden = false;
    clear(this.root);
    this.root.appendChild(h('div', { class: 'contact-loading', text: 'Loading contact…' }));
    try {
      const [profile, page] = await Promise.all([
        api.get(contactPath(contactId)),
        api.get(`${contactPath(contactId, '/timeline')}?limit=${PAGE}`),
      ]);
      if (seq !== this.seq) return;
      this.contact = profile.contact;
      this.contactId = profile.contact.id;
      this.render(page);
    } catch (err) {
      if (seq !== this.seq) return;
      clear(this.root);
      this.root.appendChild(h('div', { class: 'contact-error', text: err.message || 'Could not load the contact.' }));
    }
  }

  render(page) {
    const c = this.contact;
    clear(this.root);
    const name = h('h2', { class: 'contact-name', 'data-testid': 'contact-name', text: c.display_name || c.id });
    const counts = c.counts || {};
    const facts = h('p', { class: 'contact-counts', 'data-testid': 'contact-counts',
      text: `${counts.conversations || 0} conversations · ${counts.messages || 0} messages` });
    // Changing a contact is for whoever serves one of its conversations now, and for supervisors
    // (hub.domain.visibility); the others read only.
    if (c.may_edit === false) {
      this.root.append(name, facts, this.identitiesBlock(), this.historyBlock(page));
    } else {
      this.root.append(name, facts, this.renameForm(), this.identitiesBlock(), this.linkForm(), this.mergeBlock(),
        this.historyBlock(page));
    }
  }

  identitiesBlock() {
    const list = h('ul', { class: 'contact-identities', 'data-testid': 'contact-identities' });
    for (const [channel, addresses] of Object.entries(this.contact.identities || {})) {
      for (const address of addresses) {
        const item = h('li', { class: 'contact-identity', 'data-testid': 'contact-identity', 'data-channel': channel },
          channelBadge(channel), h('span', { class: 'identity-address', text: address }));
        if (channel === 'sms') item.appendChild(this.callButton(address));  // a phone number: call it
        list.appendChild(item);
      }
    }
    return h('section', { class: 'contact-section' }, h('h3', { text: 'Identities' }), list);
  }

  /** Call the customer: the agent's phone rings first, then the customer's (POST …/call). */
  callButton(address) {
    const button = h('button', { type: 'button', class: 'btn btn-ghost', text: 'Call',
      'aria-label': `Call ${address}`, 'data-testid': 'contact-call' });
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await api.post(contactPath(this.contactId, '/call'), {});
        toast('Your phone is ringing: answer it to call the customer.');
      } catch (err) { toastError(err); } finally { button.disabled = false; }
    });
    return button;
  }

  renameForm() {
    const input = h('input', { type: 'text', value: this.contact.display_name || '', maxlength: '120',
      'aria-label': 'Contact name', 'data-testid': 'contact-rename-input' });
    const form = h('form', { class: 'contact-form contact-rename' }, input,
      h('button', { type: 'submit', class: 'btn', text: 'Rename', 'data-testid': 'contact-rename-submit' }));
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.change('PATCH', contactPath(this.contactId), { display_name: input.value });
    });
    return form;
  }

  linkForm() {
    const channel = h('select', { 'aria-label': 'Channel', 'data-testid': 'link-channel' },
      LINKABLE.map(([value, label]) => h('option', { value, text: label })));
    const address = h('input', { type: 'text', placeholder: '+86 138… or name@example.org', maxlength: '300',
      'aria-label': 'Phone, e-mail or Telegram id', 'data-testid': 'link-address' });
    const form = h('form', { class: 'contact-form' }, channel, address,
      h('button', { type: 'submit', class: 'btn', text: 'Link', 'data-testid': 'link-submit' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        await this.change('POST', contactPath(this.contactId, '/identities'),
          { channel: channel.value, address: address.value }, { quiet: true });
        address.value = '';
      } catch (err) {
        if (err.status === 409 && err.body && err.body.error && err.body.error.other_contact_id) {
          toast(`${err.message} Use "Merge" below to combine them.`);
        } else toastError(err);
      }
    });
    return h('section', { class: 'contact-section' }, h('h3', { text: 'Link an identity' }), form);
  }

  mergeBlock() {
    const q = h('input', { type: 'search', placeholder: 'Name, phone or e-mail', maxlength: '100',
      'aria-label': 'Find a contact to merge', 'data-testid': 'merge-search' });
    const results = h('ul', { class: 'merge-results', 'data-testid': 'merge-results' });
    const form = h('form', { class: 'contact-form' }, q,
      h('button', { type: 'submit', class: 'btn', text: 'Find', 'data-testid': 'merge-find' }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      clear(results);
      try {
        const data = await api.get(`/api/contacts?q=${encodeURIComponent(q.value)}`);
        const others = (data.contacts || []).filter((x) => x.id !== this.contactId);
        if (!others.length) results.appendChild(h('li', { class: 'merge-empty', text: 'No other contact found.' }));
        for (const other of others) results.appendChild(this.mergeCandidate(other));
      } catch (err) { toastError(err); }
    });
    return h('section', { class: 'contact-section' },
      h('h3', { text: 'Merge with another contact' }), form, results);
  }

  mergeCandidate(other) {
    const badges = Object.keys(other.identities || {}).map((ch) => channelBadge(ch));
    const button = h('button', { type: 'button', class: 'btn btn-danger-soft', text: 'Merge into this contact',
      'data-testid': 'merge-submit' });
    button.addEventListener('click', async () => {
      const label = other.display_name || other.id;
      if (!window.confirm(`Merge "${label}" into "${this.contact.display_name}"? Its identities and history move here.`)) return;
      button.disabled = true;
      try {
        await this.change('POST', contactPath(this.contactId, '/merge'), { other: other.id });
        toast('Contacts merged.', { kind: 'info' });
      } catch { button.disabled = false; }
    });
    return h('li', { class: 'merge-candidate', 'data-testid': 'merge-candidate', 'data-contact-id': other.id },
      h('span', { class: 'merge-name', text: other.display_name || other.id }), ...badges, button);
  }

  historyBlock(page) {
    const list = h('ol', { class: 'contact-history', 'data-testid': 'contact-history' });
    this.older = page.older;
    this.prependHistory(list, page.messages || []);
    const more = h('button', { type: 'button', class: 'btn btn-ghost', text: 'Older messages',
      'data-testid': 'history-older', hidden: !this.older });
    more.addEventListener('click', async () => {
      try {
        const next = await api.get(`${contactPath(this.contactId, '/timeline')}?limit=${PAGE}&before=${encodeURIComponent(this.older)}`);
        this.older = next.older;
        more.hidden = !this.older;
        this.prependHistory(list, next.messages || []);
      } catch (err) { toastError(err); }
    });
    return h('section', { class: 'contact-section' }, h('h3', { text: 'History across channels' }), more, list);
  }

  prependHistory(list, messages) {
    const frag = document.createDocumentFragment();
    for (const m of messages) frag.appendChild(historyItem(m));
    list.insertBefore(frag, list.firstChild);
  }

  /** A change that answers with the contact's profile; re-render with the fresh history. */
  async change(method, path, body, { quiet = false } = {}) {
    try {
      const data = await request(method, path, body);
      if (data.contact) this.contactId = data.contact.id;
      await this.open(this.contactId);
      return data;
    } catch (err) {
      if (!quiet) toastError(err);
      throw err;
    }
  }
}

function historyItem(m) {
  const author = ['customer', 'agent', 'bot', 'system'].includes(m.author) ? m.author : 'system';
  const ticks = h('span', { class: 'msg-ticks' });
  const node = h('li', { class: `history-item history-${author}${m.private ? ' history-note' : ''}`,
    'data-testid': 'history-message', 'data-channel': m.channel || '', 'data-conversation-id': m.conversation_id || '' },
  h('div', { class: 'history-meta' }, channelBadge(m.channel),
    h('span', { class: 'history-author', text: m.author_name || author }),
    h('time', { datetime: m.sent_at || '', title: fullTime(m.sent_at), text: clockTime(m.sent_at) }),
    author !== 'customer' && !m.private ? ticks : null),
  h('div', { class: 'history-text', text: m.text ?? '' }));
  paintStatus(node, author !== 'customer' && !m.private ? ticks : null, m.status || 'sent');
  return node;
}

