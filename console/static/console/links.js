// Links in message text made clickable, safely: the text is split into Text nodes and <a> elements
// built with DOM APIs (never innerHTML). Only http:, https: and mailto: become links; anything else
// (javascript:, data:, file:) stays plain text. Links open in a new tab without access to this page.

const CANDIDATE = /\b(?:https?:\/\/|mailto:|www\.)[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/gi;
const TRAILING = /[.,;:!?'")\]}>]+$/;
const SAFE = new Set(['http:', 'https:', 'mailto:']);
const MAX_LINKS = 50; // a hostile message of thousands of URLs stays mostly text

/** The URL a candidate stands for, or null when it is not a safe link. */
export function safeUrl(candidate) {
  const raw = /^www\./i.test(candidate) ? `https://${candidate}` : candidate;
  let url;
  try { url = new URL(raw); } catch { return null; }
  if (!SAFE.has(url.protocol)) return null;
  if (url.protocol !== 'mailto:' && !url.hostname) return null;
  return url.href;
}

/** Split ``text`` into [{text}|{text, href}] parts (pure: the unit tests run it). */
export function linkParts(text) {
  const value = String(text ?? '');
  const parts = [];
  let last = 0;
  let links = 0;
  for (const match of value.matchAll(CANDIDATE)) {
    if (links >= MAX_LINKS) break;
    const shown = match[0].replace(TRAILING, '');
    const href = shown ? safeUrl(shown) : null;
    if (!href) continue;
    if (match.index > last) parts.push({ text: value.slice(last, match.index) });
    parts.push({ text: shown, href });
    last = match.index + shown.length;
    links += 1;
  }
  if (last < value.length) parts.push({ text: value.slice(last) });
  return parts;
}

/** The nodes of ``text`` with its links as <a> elements (text set as text). */
export function linkNodes(text) {
  return linkParts(text).map((part) => {
    if (!part.href) return document.createTextNode(part.text);
    const a = document.createElement('a');
    a.href = part.href;
    a.textContent = part.text;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    a.className = 'msg-link';
    a.dataset.testid = 'msg-link';
    return a;
  });
}
