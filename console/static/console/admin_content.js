// The administration page's content sections, for supervisors and admins (issue 15): knowledge
// articles (Markdown, sanitised by the hub; searched in Chinese or English), outages with their SMS
// notices, and the contacts' areas that outage notices reach. Server text is rendered inert.
import { api } from './api.js';
import { h } from './render.js';
import { button, enc, field, fill, form, list, select, send, table } from './admin_ui.js';

async function knowledgeSection(el) {
  const results = h('div', { 'data-testid': 'kb-results' });
  const categories = h('div');
  let query = '';
  const search = () => fill(results, async () => {
    const { articles } = await api.get(`/api/knowledge/articles${query ? `?q=${enc(query)}` : ''}`);
    if (!articles.length) return h('p', { class: 'adm-status' }, 'No articles found.');
    return table([
      { title: 'Title', cell: (a) => a.title }, { title: 'Category', cell: (a) => a.category },
      { title: 'Language', cell: (a) => a.language }, { title: 'Intents', cell: (a) => (a.intents || []).join(', ') },
      { title: '', class: 'adm-actions', cell: (a) => button('Delete', 'kb-delete', () => send('DELETE', `/api/knowledge/articles/${enc(a.id)}`), search) },
    ], articles, 'kb-row');
  });
  const loadCategories = async () => {
    const { categories: found } = await api.get('/api/knowledge/categories');
    categories.replaceChildren(articleForm(found, search));
  };
  const searchForm = h('form', { class: 'adm-form', role: 'search', 'data-testid': 'kb-search' },
    field('Search articles', { name: 'q', type: 'search', maxlength: 200 }),
    h('button', { type: 'submit', class: 'btn' }, 'Search'));
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    query = String(new FormData(searchForm).get('q') || '').trim();
    search();
  });
  el.append(searchForm, results, h('h3', null, 'New article'), categories, h('h3', null, 'New category'),
    form('kb-category', [
      field('Id', { name: 'id', required: true, maxlength: 63 }),
      field('Name', { name: 'name', required: true, maxlength: 100 }),
    ], 'Add category', (v) => send('POST', '/api/knowledge/categories', v), loadCategories));
  await Promise.all([search(), loadCategories()]);
}

function articleForm(categories, after) {
  return form('kb-article', [
    field('Title', { name: 'title', required: true, maxlength: 200 }),
    select('Category', 'category', categories.map((c) => [c.id, c.name])),
    select('Language', 'language', [['zh', '中文'], ['en', 'English']], 'zh'),
    field('Intents it answers (comma separated)', { name: 'intents', maxlength: 600 }),
    field('Body (Markdown)', { name: 'body', required: true, maxlength: 50000 }, 'textarea'),
  ], 'Publish article', (v, f) => send('POST', '/api/knowledge/articles', { ...v, intents: list(v.intents) })
    .then(() => f.reset()), after);
}

function when(value) {
  return value ? new Date(value).toLocaleString() : '—';
}

/** A datetime-local value (the browser's zone) as an ISO instant the API accepts. */
function instant(local) {
  return new Date(local).toISOString();
}

async function outagesSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: 'Area', cell: (o) => o.area }, { title: 'Cause', cell: (o) => o.cause },
    { title: 'Start', cell: (o) => when(o.start) }, { title: 'Expected', cell: (o) => when(o.expected_restoration) },
    { title: 'Restored', cell: (o) => when(o.restored_at) },
    { title: '', class: 'adm-actions', cell: (o) => h('span', null,
      o.restored_at ? null : button('Restored', 'outage-restore', () => send('POST', `/api/outages/${enc(o.id)}/restore`, {}), reload),
      button('Send notice', 'outage-notice', () => send('POST', `/api/outages/${enc(o.id)}/notices`,
        { kind: o.restored_at ? 'restored' : 'outage' }), reload)) },
  ], (await api.get('/api/outages')).outages, 'outage-row'));
  el.append(body, form('outage-create', [
    field('Area', { name: 'area', required: true, maxlength: 80 }),
    field('Cause', { name: 'cause', required: true, maxlength: 300 }),
    field('Start', { name: 'start', type: 'datetime-local', required: true }),
    field('Expected restoration', { name: 'expected_restoration', type: 'datetime-local', required: true }),
  ], 'Record outage', (v, f) => send('POST', '/api/outages', { area: v.area, cause: v.cause, start: instant(v.start),
    expected_restoration: instant(v.expected_restoration) }).then(() => f.reset()), reload));
  await reload();
}

async function areasSection(el) {
  const results = h('div', { 'data-testid': 'area-results' });
  const row = (c) => form('area-save', [
    h('span', null, `${c.display_name || c.id}`),
    field('Area', { name: 'area', maxlength: 80, value: c.area || '' }),
  ], 'Save area', (v) => send('PUT', `/api/contacts/${enc(c.id)}/area`, { area: v.area.trim() || null }));
  const finder = h('form', { class: 'adm-form', role: 'search', 'data-testid': 'area-search' },
    field('Find a contact (name, phone, e-mail)', { name: 'q', type: 'search', maxlength: 200, required: true }),
    h('button', { type: 'submit', class: 'btn' }, 'Find'));
  finder.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = String(new FormData(finder).get('q') || '').trim();
    fill(results, async () => {
      const { contacts } = await api.get(`/api/contacts?q=${enc(q)}`);
      const profiles = await Promise.all(contacts.slice(0, 20).map((c) => api.get(`/api/contacts/${enc(c.id)}`)
        .then((d) => d.contact, () => c)));
      return profiles.length ? profiles.map(row) : h('p', { class: 'adm-status' }, 'No contact found.');
    });
  });
  el.append(finder, results);
}

/** [id, title, build] of each content section, as admin.js lists its own. */
export function contentSections() {
  return [
    ['adm-knowledge', 'Knowledge', knowledgeSection],
    ['adm-outages', 'Outages', outagesSection],
    ['adm-areas', 'Contact areas', areasSection],
  ];
}
