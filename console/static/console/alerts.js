// Never miss an offer (issue 16 item 3): a short tone and a desktop notification on an offer and on
// a customer's message while the tab is hidden or that conversation is not open. The browser asks
// for the notification permission only from a click ("Enable alerts" in the top bar), as browsers
// require; the tone's AudioContext is unlocked by the same click. Notifications show plain text.
import { h, toast } from './render.js';
import { t } from './i18n.js';

const PREVIEW_CHARS = 100;
let audio = null;

function canNotify() {
  return typeof Notification !== 'undefined';
}

function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return;
  if (!audio) audio = new Ctx();
  if (audio.state === 'suspended') audio.resume().catch(() => { /* a later click */ });
}

/** Two short tones (an offer rings higher than a message). */
function tone(high) {
  if (!audio || audio.state !== 'running') return;
  const now = audio.currentTime;
  for (const [i, freq] of [high ? 880 : 660, high ? 1175 : 880].entries()) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + i * 0.18);
    gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.18 + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.18 + 0.16);
    osc.connect(gain).connect(audio.destination);
    osc.start(now + i * 0.18);
    osc.stop(now + i * 0.18 + 0.17);
  }
}

function notify(title, body, tag, onClick) {
  if (!canNotify() || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(title, { body: String(body || '').slice(0, PREVIEW_CHARS), tag });
    n.onclick = () => { window.focus(); onClick?.(); n.close(); };
  } catch { /* some browsers only notify from a service worker: the tone and the title remain */ }
}

/** The "Enable alerts" button in the top bar, shown while the permission is not asked yet. */
export function installAlertsButton(before) {
  if (!before) return;
  const button = h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'alerts-enable',
    text: t('alerts.enable'), title: t('alerts.enable_title') });
  const refresh = () => { button.hidden = !canNotify() || Notification.permission !== 'default'; };
  button.addEventListener('click', async () => {
    unlockAudio();
    if (canNotify() && Notification.permission === 'default') await Notification.requestPermission();
    refresh();
  });
  // Any click unlocks the tone (autoplay rules), even with notifications already decided.
  document.addEventListener('pointerdown', unlockAudio, { once: true });
  before.before(button);
  refresh();
}

function name(summary) {
  const contact = (summary && summary.contact) || {};
  return contact.display_name || t('alerts.a_customer');
}

/** An offer arrived: always the tone; the notification when the tab is hidden. */
export function alertOffer(summary, onClick) {
  tone(true);
  if (document.visibilityState === 'hidden') {
    notify(t('alerts.offered', { channel: summary.channel || '' }), name(summary), `offer:${summary.id}`, onClick);
  }
}

/** A customer wrote in a conversation that is not open (or the tab is hidden). */
export function alertMessage(summary, message, onClick) {
  tone(false);
  notify(t('alerts.wrote', { name: name(summary) }), message && message.text, `message:${summary.id}`, onClick);
}

/** A snoozed conversation of mine woke (its time came, or the customer wrote): tone, toast, notification. */
export function alertWoken(summary, onClick) {
  tone(false);
  const text = t('snooze.woken', { name: name(summary) });
  toast(text, { kind: 'info', timeout: 8000 });
  notify(text, summary && summary.preview, `woken:${summary.id}`, onClick);
}
