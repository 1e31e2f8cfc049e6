// The composer's "/" menu (as in Chatwoot's inbox): typing "/" at the start of the reply box or after
// a space opens the canned replies, filtered by what follows (title and text, Chinese or English).
// Arrows move, Enter or Tab takes the highlighted reply (variables filled), Esc closes. A listbox the
// textarea points at with aria-controls / aria-activedescendant; every text set as text.
import { h, clear } from './render.js';
import { fillCanned, searchCanned, slashToken } from './canned.js';
import { t as tr } from './i18n.js';

let counter = 0;

export class CannedMenu {
  /**
   * input: the composer's textarea; opts: items() → canned replies, values() → Promise of the
   * variables' values, onInsert() after a reply is put in place.
   */
  constructor(input, opts) {
    this.input = input;
    this.items = opts.items;
    this.values = opts.values;
    this.onInsert = opts.onInsert || (() => {});
    this.id = `canned-menu-${++counter}`;
    this.list = h('ul', {
      id: this.id, class: 'canned-menu', role: 'listbox', 'aria-label': tr('canned.replies'),
      'data-testid': 'canned-menu', hidden: true,
    });
    input.insertAdjacentElement('beforebegin', this.list);
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', this.id);
    this.matches = [];
    this.active = 0;
    this.token = null;
    input.addEventListener('input', () => this.refresh());
    input.addEventListener('click', () => this.refresh());
    input.addEventListener('blur', () => setTimeout(() => {
      if (document.activeElement !== this.input) this.close();
    }, 0));
  }

  get open() { return !this.list.hidden; }

  refresh() {
    const token = slashToken(this.input.value, this.input.selectionStart ?? this.input.value.length);
    if (!token || this.input.disabled) { this.close(); return; }
    this.token = token;
    this.matches = searchCanned(this.items(), token.query);
    this.active = 0;
    this.render();
  }

  render() {
    clear(this.list);
    if (!this.matches.length) {
      this.list.appendChild(h('li', { class: 'canned-empty', role: 'option', 'aria-disabled': 'true',
        id: `${this.id}-none`, 'data-testid': 'canned-empty', text: tr('canned.no_match', { query: this.token.query }) }));
    }
    this.matches.forEach((item, index) => {
      const li = h('li', {
        id: `${this.id}-${index}`, role: 'option', class: 'canned-option', 'data-testid': 'canned-option',
        'data-canned-id': String(item.id), 'aria-selected': String(index === this.active),
        onmousedown: (ev) => { ev.preventDefault(); this.active = index; this.pick(); },
      }, h('span', { class: 'canned-title', text: item.title || item.id }),
      h('span', { class: 'canned-text', text: String(item.text || '').slice(0, 120) }));
      this.list.appendChild(li);
    });
    this.list.hidden = false;
    this.paint();
  }

  paint() {
    const options = this.list.querySelectorAll('.canned-option');
    options.forEach((li, index) => li.setAttribute('aria-selected', String(index === this.active)));
    const current = options[this.active];
    if (current) {
      this.input.setAttribute('aria-activedescendant', current.id);
      current.scrollIntoView({ block: 'nearest' });
    } else this.input.removeAttribute('aria-activedescendant');
  }

  close() {
    this.list.hidden = true;
    this.token = null;
    this.input.removeAttribute('aria-activedescendant');
  }

  /** A keydown in the textarea: true when the menu used it (the composer must not send). */
  onKey(ev) {
    if (!this.open || ev.isComposing || ev.keyCode === 229) return false;
    const n = this.matches.length;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      if (n) this.active = (this.active + (ev.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.paint();
    } else if (ev.key === 'Enter' || ev.key === 'Tab') {
      if (ev.shiftKey) return false;
      if (n) this.pick();
    } else if (ev.key === 'Escape') {
      this.close();
    } else return false;
    ev.preventDefault();
    ev.stopPropagation();
    return true;
  }

  async pick() {
    const item = this.matches[this.active];
    const token = this.token;
    if (!item || !token) return;
    this.close();
    let values = {};
    try { values = await this.values(); } catch { /* unfilled variables stay for the agent */ }
    const input = this.input;
    if (input.value.slice(token.start, token.end) !== `/${token.query}`) return; // typed on meanwhile
    const text = fillCanned(item.text || '', values);
    input.value = input.value.slice(0, token.start) + text + input.value.slice(token.end);
    const caret = token.start + text.length;
    input.focus();
    input.setSelectionRange(caret, caret);
    this.onInsert();
  }
}
