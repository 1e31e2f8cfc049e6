// Small DOM + formatting helpers shared by the console pages.
// Rule: server data only ever reaches the DOM through textContent / createTextNode /
// setAttribute, never through innerHTML.
import { formatDate, t as tr } from './i18n.js';

/**
 * Create an element. props: class, text, dataset, on<event> handlers, boolean DOM
 * properties (hidden, disabled, checked), anything else becomes an attribute.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = String(value);
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (value === true) el.setAttribute(key, '');
      else el.setAttribute(key, String(value));
    }
  }
  appendChildren(el, children);
  return el;
}

function appendChildren(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) appendChildren(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** Set text only when it changed (avoids needless layout work on ticks). */
export function setText(el, text) {
  const value = text === undefined || text === null ? '' : String(text);
  if (el.textContent !== value) el.textContent = value;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

/** A CSS-class-safe slug of an arbitrary server value. */
export function slug(value) {
  return String(value ?? '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').slice(0, 40) || 'unknown';
}

/**
 * Keyed list reconciliation: keeps existing nodes (and their focus / hover state),
 * creates missing ones, reorders, removes stale ones.
 */
export function reconcile(container, items, keyOf, create, update) {
  const existing = new Map();
  for (const child of Array.from(container.children)) {
    if (child.dataset.key !== undefined) existing.set(child.dataset.key, child);
  }
  const keep = new Set();
  let prev = null;
  for (const item of items) {
    const key = String(keyOf(item));
    let node = existing.get(key);
    if (!node) {
      node = create(item);
      node.dataset.key = key;
    }
    update(node, item);
    keep.add(key);
    const ref = prev ? prev.nextSibling : container.firstChild;
    if (node !== ref) container.insertBefore(node, ref);
    prev = node;
  }
  for (const [key, node] of existing) if (!keep.has(key)) node.remove();
}

// ---------------------------------------------------------------- time

export function parseTs(ts) {
  if (!ts) return null;
  const t = Date.parse(ts);
  return Number.isFinite(t) ? t : null;
}

/** Seconds → "mm:ss" (minutes are not wrapped at 60: 75 minutes is "75:00"). */
export function mmss(totalSeconds) {
  const s = Math.max(0, Math.floor(Number(totalSeconds) || 0));
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Seconds elapsed since an ISO timestamp (0 when unknown / in the future). */
export function secondsSince(ts, now = Date.now()) {
  const t = parseTs(ts);
  if (t === null) return 0;
  return Math.max(0, (now - t) / 1000);
}

export function clockTime(ts) {
  const t = parseTs(ts);
  if (t === null) return '';
  const d = new Date(t);
  const today = new Date();
  const time = formatDate(d, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === today.toDateString()) return time;
  return `${formatDate(d, { month: 'short', day: 'numeric' })} ${time}`;
}

export function fullTime(ts) {
  const t = parseTs(ts);
  return t === null ? '' : formatDate(new Date(t), { dateStyle: 'medium', timeStyle: 'medium' });
}

/** Short relative age: "now", "4m", "2h", else a date. */
export function relTime(ts, now = Date.now()) {
  const t = parseTs(ts);
  if (t === null) return '';
  const s = Math.max(0, (now - t) / 1000);
  if (s < 45) return tr('time.now');
  if (s < 3600) return tr('time.minutes_short', { n: Math.round(s / 60) });
  if (s < 86400) return tr('time.hours_short', { n: Math.floor(s / 3600) });
  return formatDate(new Date(t), { month: 'short', day: 'numeric' });
}

// ---------------------------------------------------------------- labels

const CHANNELS = new Set(['webchat', 'wechat', 'sms', 'email', 'voice', 'phone', 'whatsapp', 'app', 'messenger',
  'telegram']);

export function channelName(channel) {
  return CHANNELS.has(channel) ? tr(`channel.${channel}`) : String(channel ?? tr('channel.unknown'));
}

export function channelBadge(channel) {
  const code = String(channel ?? 'unknown');
  return h('span', {
    class: `badge badge-ch badge-ch-${slug(code)}`,
    title: channelName(code),
    text: code,
  });
}

const STATES = new Set(['new', 'bot', 'queued', 'offered', 'assigned', 'wrap_up', 'resolved', 'abandoned', 'closed']);

export function stateName(state) {
  return STATES.has(state) ? tr(`state.${state}`) : String(state ?? '');
}

/** Render an arbitrary event detail / actor value as plain text. */
export function plain(value) {
  if (value === undefined || value === null || value === '') return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(plain).filter(Boolean).join(', ');
  if (typeof value === 'object') {
    if (value.display_name) return String(value.display_name);
    if (value.name) return String(value.name);
    return Object.entries(value)
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${plain(v)}`)
      .join(', ');
  }
  return String(value);
}

// ---------------------------------------------------------------- toasts

let toastRoot = null;

function toastContainer() {
  if (toastRoot && document.body.contains(toastRoot)) return toastRoot;
  toastRoot = document.getElementById('toasts');
  if (!toastRoot) {
    toastRoot = h('div', { id: 'toasts', class: 'toasts', 'aria-live': 'assertive' });
    document.body.appendChild(toastRoot);
  }
  return toastRoot;
}

/** Show a dismissible toast. kind: "error" | "info". */
export function toast(message, { kind = 'error', timeout = 10000 } = {}) {
  const root = toastContainer();
  const text = String(message || tr('error.generic'));
  // Collapse identical toasts that are already on screen.
  for (const node of root.children) {
    if (node.dataset.message === text) {
      node.remove();
    }
  }
  // The "×" is drawn by CSS so that the toast's textContent is exactly the message.
  const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': tr('toast.dismiss'), title: tr('toast.dismiss') });
  const node = h('div', {
    class: `toast toast-${kind}`,
    role: kind === 'error' ? 'alert' : 'status',
    'data-testid': 'toast',
  }, h('span', { class: 'toast-text', text }), close);
  node.dataset.message = text;
  let timer = null;
  const dismiss = () => { clearTimeout(timer); node.remove(); };
  close.addEventListener('click', dismiss);
  if (timeout > 0) timer = setTimeout(dismiss, timeout);
  root.appendChild(node);
  while (root.children.length > 4) root.firstElementChild.remove();
  return dismiss;
}

/** Toast an API error (401s are handled by the redirect to the login page). */
export function toastError(err) {
  if (err && err.status === 401) return;
  toast((err && err.message) || String(err));
}
