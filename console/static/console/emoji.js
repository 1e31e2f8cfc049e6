// The composer's emoji picker: a short curated list of the emoji a utility's agents use with
// customers (docs/decisions/0046: an npm picker needs its emoji database served and cached, more than
// this needs). A button opens a grid of buttons (each with its name for screen readers); a click
// inserts the emoji at the caret; Esc or a click elsewhere closes it; arrows move within the grid.
import { h } from './render.js';
import { t as tr } from './i18n.js';

// Each emoji with its name's key in the dictionaries (emoji.<name>), read out by screen readers.
export const EMOJI = [
  ['🙂', 'slightly_smiling_face'], ['😊', 'smiling_face_with_smiling_eyes'], ['😀', 'grinning_face'], ['😉', 'winking_face'],
  ['🙏', 'folded_hands'], ['👍', 'thumbs_up'], ['👌', 'ok_hand'], ['👋', 'waving_hand'],
  ['👏', 'clapping_hands'], ['🤝', 'handshake'], ['💪', 'flexed_biceps'], ['😔', 'pensive_face'],
  ['😟', 'worried_face'], ['😅', 'grinning_face_with_sweat'], ['🤔', 'thinking_face'], ['❤️', 'red_heart'],
  ['✅', 'check_mark_button'], ['❌', 'cross_mark'], ['⚠️', 'warning'], ['ℹ️', 'information'],
  ['⚡', 'high_voltage'], ['💡', 'light_bulb'], ['🔌', 'electric_plug'], ['🔋', 'battery'],
  ['🏠', 'house'], ['🔧', 'wrench'], ['🛠️', 'hammer_and_wrench'], ['👷', 'construction_worker'],
  ['📅', 'calendar'], ['⏰', 'alarm_clock'], ['⏳', 'hourglass'], ['📞', 'telephone_receiver'],
  ['📱', 'mobile_phone'], ['✉️', 'envelope'], ['📄', 'page'], ['🧾', 'receipt'],
  ['💳', 'credit_card'], ['💰', 'money_bag'], ['🎉', 'party_popper'], ['⭐', 'star'],
];

export class EmojiPicker {
  /** anchor: where the button goes; onPick(emoji) inserts it. */
  constructor(anchor, onPick) {
    this.onPick = onPick;
    this.button = h('button', {
      type: 'button', class: 'btn btn-sm emoji-toggle', 'data-testid': 'emoji-toggle',
      'aria-label': tr('emoji.insert'), 'aria-haspopup': 'true', 'aria-expanded': 'false', text: '🙂',
    });
    this.grid = h('div', { class: 'emoji-grid', role: 'group', 'aria-label': tr('emoji.emoji'), 'data-testid': 'emoji-grid', hidden: true });
    for (const [emoji, key] of EMOJI) {
      const name = tr(`emoji.${key}`);
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
