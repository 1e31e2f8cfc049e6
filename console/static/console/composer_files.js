// The composer's file button (ADR 0046): the agent picks a file; it goes to
// POST /api/conversations/{id}/attachments (multipart, the session's CSRF header, the tab's socket id)
// with the reply box's text as its caption. The server decides by the file's bytes (415) and size
// (413); its message says why.
import { ApiError, convPath, getConsoleSocket, getCsrf } from './api.js';
import { h } from './render.js';
import { t } from './i18n.js';

export const ACCEPT = 'image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt,.pdf';

export async function uploadFile(conversationId, file, caption) {
  const form = new FormData();
  form.append('file', file, file.name);
  if (caption) form.append('text', caption);
  const headers = { Accept: 'application/json' };
  const token = getCsrf();
  if (token) headers['X-CSRF-Token'] = token;
  const socket = getConsoleSocket(); // the frame of this file's message then skips this tab (it has the answer)
  if (socket) headers['X-Console-Socket'] = socket;
  let res;
  try {
    res = await fetch(convPath(conversationId, 'attachments'), {
      method: 'POST', body: form, headers, credentials: 'same-origin', cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', t('files.network'));
  }
  let data = null;
  try { data = await res.json(); } catch { data = null; }
  if (res.ok) return data || {};
  const err = (data && data.error) || {};
  throw new ApiError(res.status, err.code || `http_${res.status}`, err.message || t('files.failed'), data);
}

export class FileButton {
  /** onFile(file) is called with the chosen file. */
  constructor(onFile) {
    this.input = h('input', { type: 'file', accept: ACCEPT, hidden: true, 'data-testid': 'composer-file-input',
      'aria-label': t('files.attach'), tabindex: '-1' });
    this.button = h('button', { type: 'button', class: 'btn btn-sm composer-attach', 'data-testid': 'composer-attach',
      'aria-label': t('files.attach'), title: t('files.attach_title'), text: '📎' });
    this.button.addEventListener('click', () => this.input.click());
    this.input.addEventListener('change', () => {
      const [file] = this.input.files || [];
      this.input.value = '';
      if (file) onFile(file);
    });
    this.wrap = h('span', { class: 'composer-files' }, this.button, this.input);
  }

  set disabled(value) { this.button.disabled = value; this.input.disabled = value; }
}
