// Small building blocks of the administration page: sections, tables and forms.
// Server data reaches the DOM through h()/textContent only (render.js).
import { request } from './api.js';
import { h, clear, setText, toastError } from './render.js';
import { t as tt } from './i18n.js';

export const send = (method, path, body) => request(method, path, body);
export const enc = encodeURIComponent;

/** A section with a heading, linked from the page's index. */
export function section(id, title, index) {
  const heading = h('h2', { id: `${id}-title` }, title);
  const el = h('section', { class: 'adm-section', id, 'aria-labelledby': `${id}-title`, 'data-testid': id }, heading);
  index.appendChild(h('a', { href: `#${id}` }, title));
  return el;
}

/** A table: columns [{title, cell(row) -> Node | string}]. */
export function table(columns, rows, testid) {
  const body = h('tbody', null, ...rows.map((row) => h('tr', { 'data-testid': testid },
    ...columns.map((c) => h('td', { class: c.class }, c.cell(row))))));
  return h('table', { class: 'adm-table' }, h('thead', null, h('tr', null, ...columns.map((c) => h('th', { scope: 'col' }, c.title)))), body);
}

/** A labelled input; ``props`` go to the input (name, type, required, maxlength, value…). */
export function field(label, props, tag = 'input') {
  return h('label', null, label, h(tag, props));
}

export function select(label, name, options, value) {
  return h('label', null, label, h('select', { name },
    ...options.map(([v, text]) => h('option', { value: v, selected: v === value }, text))));
}

/**
 * A form whose submit calls ``action(values)`` (the named fields' values); its status line says
 * what happened. ``after`` runs after a success (a reload of the section).
 */
export function form(testid, children, submitLabel, action, after) {
  const status = h('span', { class: 'adm-status', role: 'status', 'data-testid': `${testid}-status` });
  const el = h('form', { class: 'adm-form', 'data-testid': testid }, ...children,
    h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel), status);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(new FormData(el).entries());
    setText(status, tt('adminuijs.saving'));
    try {
      await action(values, el);
      setText(status, tt('adminuijs.saved'));
      await after?.();
    } catch (err) {
      setText(status, err.message || tt('adminuijs.failed'));
      if (!err.status) toastError(err);
    }
  });
  return el;
}

/** A button that runs ``action`` and then ``after``; errors go to a toast. */
export function button(text, testid, action, after) {
  return h('button', { type: 'button', class: 'btn', 'data-testid': testid, onclick: async () => {
    try { await action(); await after?.(); } catch (err) { toastError(err); }
  } }, text);
}

export function list(text) {
  return String(text || '').split(',').map((s) => s.trim()).filter(Boolean);
}

/** Replace a container's content with what ``load`` builds; a failure shows its message. */
export async function fill(container, load) {
  try {
    const nodes = await load();
    clear(container);
    for (const node of [].concat(nodes)) if (node) container.appendChild(node);
  } catch (err) {
    clear(container);
    container.appendChild(h('p', { class: 'adm-status' }, err.message || tt('adminuijs.could_not_load')));
  }
}
