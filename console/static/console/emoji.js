// The composer's emoji picker: a short curated list of the emoji a utility's agents use with
// customers (docs/decisions/0046: an npm picker needs its emoji database served and cached, more than
// this needs). A button opens a grid of buttons (each with its name for screen readers); a click
// inserts the emoji at the caret; Esc or a click elsewhere closes it; arrows move within the grid.
import { h } from './render.js';

export const EMOJI = [
  ['🙂', 'slightly smiling face'], ['😊', 'smiling face with smiling eyes'], ['😀', 'grinning face'],
  ['😉', 'winking face'], ['🙏', 'folded hands'], ['👍', 'thumbs up'], ['👌', 'OK hand'],
  ['👋', 'waving hand'], ['👏', 'clapping hands'], ['🤝', 'handshake'], ['💪', 'flexed biceps'],
  ['😔', 'pensive face'], ['😟', 'worried face'], ['😅', 'grinning face with sweat'], ['🤔', 'thinking face'],
  ['❤️', 'red heart'], ['✅', 'check mark button'], ['❌', 'cross mark'], ['⚠️', 'warning'],
  ['ℹ️', 'information'], ['⚡', 'high voltage'], ['💡', 'light bulb'], ['🔌', 'electric plug'],
  ['🔋', 'battery'], ['🏠', 'house'], ['🔧', 'wrench'], ['🛠️', 'hammer and wrench'], ['👷', 'construction worker'],
  ['📅', 'calendar'], ['⏰', 'alarm clock'], ['⏳', 'hourglass'], ['📞', 'telephone receiver'],
  ['📱', 'mobile phone'], ['✉️', 'envelope'], ['📄', 'page'], ['🧾', 'receipt'], ['💳', 'credit card'],
  ['💰', 'money bag'], ['🎉', 'party popper'], ['⭐', 'star'],
];

export class EmojiPicker {
  /** anchor: where the button goes; onPick(emoji) inserts it. */
  constructor(anchor, onPick) {
    this.onPick = onPick;
    this.button = h('button', {
      type: 'button', class: 'btn btn-sm emoji-toggle', 'data-testid': 'emoji-toggle',
      'aria-label': 'Insert emoji', 'aria-haspopup': 'true', 'aria-expanded': 'false', text: '🙂',
    });
    this.grid = h('div', { class: 'emoji-grid', role: 'group', 'aria-label': 'Emoji', 'data-testid': 'emoji-grid', hidden: true });
    for (const [emoji, name] of EMOJI) {
      this.grid.appendChild(h('button', {
        type: 'button', class: 'emoji-option', 'data-testid': 'emoji-option', 'aria-label': name, title: name,
        text: emoji, onclick: () => { this.close(); this.onPick(emoji); },
      }));
    }
    this.wrap = h('span', { class: 'emoji-picker' }, this.button, this.grid);
    anchor.appendChild(this.wrap);
    this.button.addEventListener('click', () => (this.grid.hidden ? this.show() : this.close()));
    this.grid.addEventListener('keydown', (ev) => this.onKey(ev));
    document.addEventListener('click', (ev) => { if (!this.wrap.contains(ev.target)) this.close(); });
  }

  set disabled(value) { this.button.disabled = value; if (value) this.close(); }

  show() {
    this.grid.hidden = false;
    this.button.setAttribute('aria-expanded', 'true');
    this.grid.querySelector('button').focus();
  }

  close() {
    if (this.grid.hidden) return;
    const inside = this.grid.contains(document.activeElement);
    this.grid.hidden = true;
    this.button.setAttribute('aria-expanded', 'false');
    if (inside) this.button.focus();
  }

  onKey(ev) {
    const buttons = Array.from(this.grid.querySelectorAll('button'));
    const at = buttons.indexOf(document.activeElement);
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[ev.key];
    if (ev.key === 'Escape') { ev.preventDefault(); this.close(); return; }
    if (step === undefined || at < 0) return;
    ev.preventDefault();
    buttons[(at + step + buttons.length) % buttons.length].focus();
  }
}
