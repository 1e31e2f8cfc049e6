// E-mail details of a timeline message: the subject, the folded quoted history, attachment links
// (and a preview of an image, any channel).
import { h } from './render.js';
import { t as tr } from './i18n.js';

const PREVIEWS = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function size(bytes) {
  if (!Number.isFinite(bytes)) return '';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export function subjectNode(m) {
  return m && m.subject ? h('div', { class: 'msg-subject', 'data-testid': 'message-subject', text: m.subject }) : null;
}

export function mailExtras(m) {
  const nodes = [];
  if (m && m.quoted) {
    nodes.push(h('details', { class: 'msg-quoted' }, h('summary', { text: tr('email.quoted_text') }),
      h('pre', { text: m.quoted })));
  }
  for (const a of (m && Array.isArray(m.attachments)) ? m.attachments : []) {
    if (!a || typeof a.url !== 'string' || !a.url.startsWith('/api/attachments/')) continue;
    if (PREVIEWS.has(a.content_type)) {
      // The hub serves it inline only if its bytes are such an image (console/attachments.py).
      nodes.push(h('img', { class: 'msg-image', src: `${a.url}?inline=1`, alt: a.filename || tr('email.attachment'),
        loading: 'lazy', 'data-testid': 'attachment-image' }));
    }
    nodes.push(h('a', { class: 'msg-attachment', href: a.url, download: a.filename || 'attachment',
      'data-testid': 'attachment-link', text: `📎 ${a.filename || tr('email.attachment')} ${size(a.size)}`.trim() }));
  }
  return nodes;
}
