// The administration page's content sections, for supervisors and admins (issue 15): knowledge
// articles (Markdown, sanitised by the hub; searched in Chinese or English), outages with their SMS
// notices, and the contacts' areas that outage notices reach. Server text is rendered inert.
import { api } from './api.js';
import { h } from './render.js';
import { button, enc, field, fill, form, list, select, send, table } from './admin_ui.js';
import { formatDate, t as tt } from './i18n.js';

async function knowledgeSection(el) {
  const results = h('div', { 'data-testid': 'kb-results' });
  const categories = h('div');
  let query = '';
  const search = () => fill(results, async () => {
    const { articles } = await api.get(`/api/knowledge/articles${query ? `?q=${enc(query)}` : ''}`);
    if (!articles.length) return h('p', { class: 'adm-status' }, tt('admincontentjs.no_articles_found'));
    return table([
      { title: tt('admincontentjs.title'), cell: (a) => a.title }, { title: tt('admincontentjs.category'), cell: (a) => a.category },
      { title: tt('admincontentjs.language'), cell: (a) => a.language }, { title: tt('admincontentjs.intents'), cell: (a) => (a.intents || []).join(', ') },
      { title: '', class: 'adm-actions', cell: (a) => h('span', null,
        button(tt('admincontentjs.edit'), 'kb-edit', () => edit(a.id)),
        button(tt('admincontentjs.delete'), 'kb-delete', () => send('DELETE', `/api/knowledge/articles/${enc(a.id)}`), search)) },
    ], articles, 'kb-row');
  });
  let known = [];
  const loadCategories = async () => {
    known = (await api.get('/api/knowledge/categories')).categories;
    heading.textContent = tt('admincontentjs.new_article');
    categories.replaceChildren(articleForm(known, search));
  };
  // An article opened for editing takes the form's place until it is saved (then the form is a new one's again).
  const heading = h('h3', { 'data-testid': 'kb-article-heading' }, tt('admincontentjs.new_article'));
  const edit = async (id) => {
    const { article } = await api.get(`/api/knowledge/articles/${enc(id)}`);
    heading.textContent = tt('admincontentjs.edit_article', { title: article.title });
    categories.replaceChildren(articleForm(known, async () => { await search(); await loadCategories(); }, article));
    heading.scrollIntoView({ block: 'nearest' });
  };
  const searchForm = h('form', { class: 'adm-form', role: 'search', 'data-testid': 'kb-search' },
    field(tt('admincontentjs.search_articles'), { name: 'q', type: 'search', maxlength: 200 }),
    h('button', { type: 'submit', class: 'btn' }, tt('admincontentjs.search')));
  searchForm.addEventListener('submit', (event) => {
    event.preventDefault();
    query = String(new FormData(searchForm).get('q') || '').trim();
    search();
  });
  el.append(searchForm, results, heading, categories, h('h3', null, tt('admincontentjs.new_category')),
    form('kb-category', [
      field(tt('admincontentjs.id'), { name: 'id', required: true, maxlength: 63 }),
      field(tt('admincontentjs.name'), { name: 'name', required: true, maxlength: 100 }),
    ], tt('admincontentjs.add_category'), (v) => send('POST', '/api/knowledge/categories', v), loadCategories));
  await Promise.all([search(), loadCategories()]);
}

/** The article form: a new article (POST), or ``article`` edited in place (PUT, its values filled in). */
function articleForm(categories, after, article = null) {
  const body = h('textarea', { name: 'body', required: true, maxlength: 50000 });
  body.value = article ? article.body : '';
  const save = (v, f) => (article
    ? send('PUT', `/api/knowledge/articles/${enc(article.id)}`, { ...v, intents: list(v.intents) })
    : send('POST', '/api/knowledge/articles', { ...v, intents: list(v.intents) }).then(() => f.reset()));
  return form('kb-article', [
    field(tt('admincontentjs.title'), { name: 'title', required: true, maxlength: 200, value: article?.title }),
    select(tt('admincontentjs.category'), 'category', categories.map((c) => [c.id, c.name]), article?.category),
    select(tt('admincontentjs.language'), 'language', [['zh', '中文'], ['en', 'English']], article?.language || 'zh'),
    field(tt('admincontentjs.intents_it_answers_comma_separated'), { name: 'intents', maxlength: 600,
      value: article ? (article.intents || []).join(', ') : undefined }),
    h('label', null, tt('admincontentjs.body_markdown'), body),
  ], tt(article ? 'admincontentjs.save_article' : 'admincontentjs.publish_article'), save, after);
}

function when(value) {
  return value ? formatDate(value) : '—';
}

/** A datetime-local value (the browser's zone) as an ISO instant the API accepts. */
function instant(local) {
  return new Date(local).toISOString();
}

/** The notice an outage would send next: the outage's own, or once restored the restoration's. */
function nextKind(o) {
  return o.restored_at ? 'restored' : 'outage';
}

/** One notice's progress ("Outage notice: sending, 120 of 5,000 handed to the SMS gateway") and, while
 * it is being prepared or sent, the button that stops it. */
function noticeLine(o, n, reload) {
  const progress = tt('admincontentjs.notice_progress', { kind: tt(`admincontentjs.notice_${n.kind}`),
    state: tt(`admincontentjs.notice_state_${n.state}`), count: n.counts?.submitted ?? 0, total: n.total ?? '…' });
  const open = n.state === 'preparing' || n.state === 'sending';
  return h('span', { class: 'adm-notice', 'data-testid': 'outage-notice-line', dataset: { kind: n.kind, state: n.state } }, progress, ' ',
    open ? button(tt('admincontentjs.cancel_notice'), 'outage-notice-cancel',
      () => send('POST', `/api/outages/${enc(o.id)}/notices/${enc(n.kind)}/cancel`, {}), reload) : null);
}

async function outagesSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: tt('admincontentjs.area'), cell: (o) => o.area }, { title: tt('admincontentjs.cause'), cell: (o) => o.cause },
    { title: tt('admincontentjs.start'), cell: (o) => when(o.start) }, { title: tt('admincontentjs.expected'), cell: (o) => when(o.expected_restoration) },
    { title: tt('admincontentjs.restored'), cell: (o) => when(o.restored_at) },
    { title: tt('admincontentjs.notices'), cell: (o) => h('span', null, ...(o.notices || []).map((n) => noticeLine(o, n, reload))) },
    { title: '', class: 'adm-actions', cell: (o) => h('span', null,
      o.restored_at ? null : button(tt('admincontentjs.restored'), 'outage-restore', () => send('POST', `/api/outages/${enc(o.id)}/restore`, {}), reload),
      (o.notices || []).some((n) => n.kind === nextKind(o)) ? null
        : button(tt('admincontentjs.send_notice'), 'outage-notice', () => send('POST', `/api/outages/${enc(o.id)}/notices`,
          { kind: nextKind(o) }), reload)) },
  ], (await api.get('/api/outages')).outages, 'outage-row'));
  el.append(body, form('outage-create', [
    field(tt('admincontentjs.area'), { name: 'area', required: true, maxlength: 80 }),
    field(tt('admincontentjs.cause'), { name: 'cause', required: true, maxlength: 300 }),
    field(tt('admincontentjs.start'), { name: 'start', type: 'datetime-local', required: true }),
    field(tt('admincontentjs.expected_restoration'), { name: 'expected_restoration', type: 'datetime-local', required: true }),
  ], tt('admincontentjs.record_outage'), (v, f) => send('POST', '/api/outages', { area: v.area, cause: v.cause, start: instant(v.start),
    expected_restoration: instant(v.expected_restoration) }).then(() => f.reset()), reload));
  await reload();
}

async function areasSection(el) {
  const results = h('div', { 'data-testid': 'area-results' });
  const row = (c) => form('area-save', [
    h('span', null, `${c.display_name || c.id}`),
    field(tt('admincontentjs.area'), { name: 'area', maxlength: 80, value: c.area || '' }),
  ], tt('admincontentjs.save_area'), (v) => send('PUT', `/api/contacts/${enc(c.id)}/area`, { area: v.area.trim() || null }));
  const finder = h('form', { class: 'adm-form', role: 'search', 'data-testid': 'area-search' },
    field(tt('admincontentjs.find_a_contact_name_phone_e_mail'), { name: 'q', type: 'search', maxlength: 200, required: true }),
    h('button', { type: 'submit', class: 'btn' }, tt('admincontentjs.find')));
  finder.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = String(new FormData(finder).get('q') || '').trim();
    fill(results, async () => {
      const { contacts } = await api.get(`/api/contacts?q=${enc(q)}`);
      const profiles = await Promise.all(contacts.slice(0, 20).map((c) => api.get(`/api/contacts/${enc(c.id)}`)
        .then((d) => d.contact, () => c)));
      return profiles.length ? profiles.map(row) : h('p', { class: 'adm-status' }, tt('admincontentjs.no_contact_found'));
    });
  });
  el.append(finder, results);
}

/** [id, title, build] of each content section, as admin.js lists its own. */
export function contentSections() {
  return [
    ['adm-knowledge', tt('admincontentjs.knowledge'), knowledgeSection],
    ['adm-outages', tt('admincontentjs.outages'), outagesSection],
    ['adm-areas', tt('admincontentjs.contact_areas'), areasSection],
  ];
}
