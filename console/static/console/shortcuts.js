// Keyboard shortcuts of the agent inbox (issue 16 item 8) and their help overlay ("?").
//
// A single key acts only when the focus is not in a field (reply box, search, select…), so typing
// never triggers anything; the same action with Alt works everywhere, also while typing (matched
// by the physical key, so Alt+letter works on every layout that has the letter there). Esc leaves
// the reply box, after which the single keys work again. The actions press the console's own
// controls (the Accept button, the Resolve button, the note toggle…), so they obey the same rules
// (disabled while not allowed) and this module needs no hook in the views.
import { h } from './render.js';
import { t as tr } from './i18n.js';

/** What the overlay lists, in this order; `key` is the single key, `code` the physical key for Alt. */
export const SHORTCUTS = [
  { action: 'next', key: 'j', code: 'KeyJ', label: tr('keys.next_conversation') },
  { action: 'previous', key: 'k', code: 'KeyK', label: tr('keys.previous_conversation') },
  { action: 'accept', key: 'a', code: 'KeyA', label: tr('keys.accept_the_oldest_offer') },
  { action: 'reply', key: 'r', code: 'KeyR', label: tr('keys.reply_to_the_customer_the_reply_box') },
  { action: 'note', key: 'n', code: 'KeyN', label: tr('keys.private_note_only_agents_see_it') },
  { action: 'canned', key: '/', code: 'Slash', label: tr('keys.canned_reply_type_to_search') },
  { action: 'resolve', key: 'e', code: 'KeyE', label: tr('keys.resolve_the_open_conversation') },
];

const OTHER_KEYS = [
  ['?', tr('keys.show_or_hide_this_help')],
  ['Esc', tr('keys.leave_the_reply_box_then_the_single')],
  ['Enter', tr('keys.send_in_the_reply_box_shift_enter_fo')],
];

/** Pure: which action a keydown asks for, or null. `typing`: the focus is in a field. */
export function actionFor(ev, typing) {
  if (ev.ctrlKey || ev.metaKey || ev.isComposing) return null;
  if (ev.altKey) {
    const found = SHORTCUTS.find((s) => s.code === ev.code);
    return found && !ev.shiftKey ? found.action : null;
  }
  if (typing) return null;
  if (ev.key === '?') return 'help';
  const found = SHORTCUTS.find((s) => s.key === ev.key);
  return found && !ev.shiftKey ? found.action : null;
}

function isField(el) {
  if (!el || el === document.body) return false;
  if (el.isContentEditable) return true;
  if (el.tagName === 'TEXTAREA' || el.tagName === 'SELECT') return true;
  if (el.tagName !== 'INPUT') return false;
  return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(el.type);
}

function usable(el) {
  return !!el && !el.disabled && !el.closest('[hidden]');
}

/** Wait (frame by frame, at most 10 s) until `ready()` is true, then `then()`. */
function whenReady(ready, then, deadline = performance.now() + 10000) {
  if (ready()) { then(); return; }
  if (performance.now() > deadline) return;
  requestAnimationFrame(() => whenReady(ready, then, deadline));
}

export class Shortcuts {
  /** doc: the page's document; helpButtonBefore: the top bar control the "?" button goes before. */
  constructor(doc, { helpButtonBefore } = {}) {
    this.doc = doc;
    this.$ = (id) => doc.getElementById(id);
    this.dialog = this.buildHelp();
    doc.body.appendChild(this.dialog);
    if (helpButtonBefore) {
      const button = h('button', {
        type: 'button', class: 'btn btn-ghost btn-keys', 'data-testid': 'shortcuts-button',
        'aria-haspopup': 'dialog', title: tr('keys.keyboard_shortcuts'), onclick: () => this.toggleHelp(),
      }, h('span', { 'aria-hidden': 'true', text: '?' }), h('span', { class: 'visually-hidden', text: tr('keys.keyboard_shortcuts_2') }));
      helpButtonBefore.insertAdjacentElement('beforebegin', button);
    }
    doc.addEventListener('keydown', (ev) => this.onKey(ev));
  }

  buildHelp() {
    const rows = SHORTCUTS.map((s) => h('tr', { 'data-testid': 'shortcut-row', 'data-action': s.action },
      h('td', null, h('kbd', { text: s.key }), ` ${tr('keys.or')} `, h('kbd', { text: `Alt+${s.key === '/' ? '/' : s.key.toUpperCase()}` })),
      h('td', { text: s.label })));
    const other = OTHER_KEYS.map(([k, what]) => h('tr', null, h('td', null, h('kbd', { text: k })), h('td', { text: what })));
    const close = h('button', { type: 'button', class: 'btn', 'data-testid': 'shortcuts-close', text: tr('keys.close'),
      onclick: () => this.dialog.close() });
    return h('dialog', { class: 'shortcuts-help', 'data-testid': 'shortcuts-help', 'aria-labelledby': 'shortcuts-title' },
      h('h2', { id: 'shortcuts-title', text: tr('keys.keyboard_shortcuts_2') }),
      h('p', { class: 'shortcuts-intro',
        text: tr('keys.single_keys_work_when_you_are_not_ty') }),
      h('table', { class: 'shortcuts-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col', text: tr('keys.keys') }), h('th', { scope: 'col', text: tr('keys.action') }))),
        h('tbody', null, ...rows, ...other)),
      h('div', { class: 'shortcuts-actions' }, close));
  }

  toggleHelp() {
    if (this.dialog.open) this.dialog.close();
    else this.dialog.showModal();
  }

  onKey(ev) {
    if (ev.defaultPrevented) return;
    const active = this.doc.activeElement;
    if (this.dialog.open) { // the dialog keeps its own Esc and Tab; "?" closes it too
      if (ev.key === '?') { ev.preventDefault(); this.dialog.close(); }
      return;
    }
    if (ev.key === 'Escape' && active && active.id === 'composer-input' && !this.cannedMenuOpen()) {
      active.blur();
      return;
    }
    const action = actionFor(ev, isField(active));
    if (!action) return;
    if (this[action]()) ev.preventDefault();
  }

  cannedMenuOpen() {
    const menu = this.doc.querySelector('[data-testid="canned-menu"]');
    return !!menu && !menu.hidden;
  }

  help() { this.toggleHelp(); return true; }

  next() { return this.step(1); }

  previous() { return this.step(-1); }

  /** Open the next (or previous) of my conversations, wrapping around; the first if none is open. */
  step(by) {
    const items = Array.from(this.doc.querySelectorAll('#assigned-list [data-testid="conv-item"]'));
    if (!items.length) return false;
    const open = this.$('conversation').dataset.conversationId;
    const at = items.findIndex((n) => n.dataset.conversationId === open);
    const target = at < 0 ? items[by > 0 ? 0 : items.length - 1] : items[(at + by + items.length) % items.length];
    target.click();
    target.focus();
    return true;
  }

  accept() {
    const button = Array.from(this.doc.querySelectorAll('#offers-list [data-testid="offer-accept"]')).find(usable);
    if (!button) return false;
    const id = button.closest('[data-conversation-id]').dataset.conversationId;
    button.click();
    // Once it is open and mine, the reply box takes the focus.
    const input = this.$('composer-input');
    whenReady(() => this.$('conversation').dataset.conversationId === id && usable(input), () => input.focus());
    return true;
  }

  reply() { return this.compose(false); }

  note() { return this.compose(true); }

  compose(asNote) {
    const toggle = this.$('composer-note-toggle');
    const input = this.$('composer-input');
    if (!usable(input) || !usable(toggle)) return false;
    if (toggle.checked !== asNote) {
      toggle.checked = asNote;
      toggle.dispatchEvent(new Event('change', { bubbles: true }));
    }
    input.focus();
    return true;
  }

  /** The reply box with "/" typed at the caret's word start: the composer's canned-reply search. */
  canned() {
    const input = this.$('composer-input');
    if (!usable(input)) return false;
    input.focus();
    const at = input.selectionStart ?? input.value.length;
    const before = input.value.slice(0, at);
    const slash = before === '' || /\s$/.test(before) ? '/' : ' /';
    input.setRangeText(slash, at, input.selectionEnd ?? at, 'end');
    input.dispatchEvent(new Event('input', { bubbles: true }));
    return true;
  }

  /** Resolve the open conversation; pressed right after opening it, once it has loaded (≤ 5 s). */
  resolve() {
    const button = this.$('resolve');
    const view = this.$('conversation');
    const id = view.dataset.conversationId;
    if (view.hidden || !id) return false;
    whenReady(() => view.dataset.conversationId === id && usable(button),
      () => button.click(), performance.now() + 5000);
    return true;
  }
}
