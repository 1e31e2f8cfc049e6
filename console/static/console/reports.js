// Reports (/console/reports): the supervisors' KPI history (GET /api/kpi/history) as a table by day,
// week or quarter hour, split by queue, channel, agent or team, with its CSV, and the conversations
// behind a count (GET /api/kpi/conversations). Definitions: docs/kpis.md. A team leader sees her
// team's work only (the API decides). Server data reaches the DOM through h()/textContent only.
import { api } from './api.js';
import { bootPage } from './topbar.js';
import { channelName, clear, h, mmss, setText, stateName, toastError } from './render.js';
import { formatDate, formatNumber, t as tt } from './i18n.js';

const $ = (id) => document.getElementById(id);
const WATCHING = ['supervisor', 'admin', 'team_leader'];
const DAY_MS = 86400000;
// The figures shown, in order, and how each is written; the CSV carries every figure.
const COLUMNS = [
  ['offered', 'count'], ['answered', 'count'], ['abandoned', 'count'], ['service_level', 'ratio'],
  ['abandon_rate', 'ratio'], ['asa_s', 'time'], ['longest_wait_s', 'time'], ['handled', 'count'],
  ['aht_s', 'time'], ['transfer_rate', 'ratio'], ['bot_containment', 'ratio'], ['fcr', 'ratio'],
  ['reopen_rate', 'ratio'], ['csat', 'ratio'], ['occupancy', 'ratio'],
];
const DRILLS = new Set(['offered', 'answered', 'abandoned', 'handled']);  // /api/kpi/conversations figures
const names = { queue: new Map(), agent: new Map(), team: new Map() };
let shown = null;  // the last answer: { query, data }
let chart = null;  // the Chart.js chart of the periods (the table below is its text)
const COLORS = { answered: '#1f5fd1', abandoned: '#b3261e', level: '#1b7f3b', grid: '#e3e7ec', text: '#1c2430' };

/** A date input's value (YYYY-MM-DD) for a time, in the browser's zone. */
function inputDate(ms) {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The centre's local date (YYYY-MM-DD) of an instant: the API's days are the centre's. */
function centreDate(ms, zone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date(ms));
}

function query() {
  return { from: $('rep-from').value, to: $('rep-to').value, by: $('rep-by').value, group: $('rep-group').value };
}

function historyPath(q, format) {
  const params = new URLSearchParams(q);
  if (format) params.set('format', format);
  return `/api/kpi/history?${params}`;
}

function cellText(kind, value) {
  if (value === null || value === undefined) return '—';
  if (kind === 'ratio') return formatNumber(value, { style: 'percent', maximumFractionDigits: 1 });
  if (kind === 'time') return mmss(value);
  return formatNumber(value);
}

function keyLabel(group, key) {
  if (group === 'channel') return channelName(key);
  if (group === 'queue' && !key) return tt('repjs.no_queue');
  if (group === 'team' && !key) return tt('repjs.no_team');
  return names[group]?.get(key) || key;
}

function figureCell(row, name, kind, q) {
  const value = row[name];
  const text = cellText(kind, value);
  const under = name === 'service_level' && typeof value === 'number' && value < row.service_level_target;
  const cls = ['num', under ? 'is-under' : ''].join(' ').trim();
  const key = q.group === 'none' ? null : row[q.group];
  const drillable = DRILLS.has(name) && value > 0 && q.by !== 'interval' && q.group !== 'team'
    && !(q.group === 'queue' && !key);
  if (!drillable) return h('td', { class: cls, 'data-figure': name }, text);
  return h('td', { class: cls, 'data-figure': name },
    h('button', { type: 'button', class: 'rep-count', 'data-testid': `rep-drill-${name}`,
      title: tt('repjs.show_conversations'), onclick: () => drill(row, name, q).catch(toastError) }, text));
}

function render(q, data) {
  const head = $('rep-head');
  const body = $('rep-rows');
  clear(head);
  clear(body);
  head.append(h('th', { scope: 'col' }, tt('rep.period')));
  if (q.group !== 'none') head.append(h('th', { scope: 'col' }, tt(`rep.group_${q.group}`)));
  for (const [name] of COLUMNS) head.append(h('th', { scope: 'col', class: 'num', title: tt(`repjs.about_${name}`) }, tt(`repjs.col_${name}`)));
  for (const row of data.rows) {
    body.append(h('tr', { 'data-testid': 'rep-row', dataset: { period: row.period, key: q.group === 'none' ? '' : row[q.group] } },
      h('th', { scope: 'row' }, row.period),
      q.group !== 'none' ? h('td', {}, keyLabel(q.group, row[q.group])) : null,
      COLUMNS.map(([name, kind]) => figureCell(row, name, kind, q))));
  }
  if (!data.rows.length) body.append(h('tr', {}, h('td', { colspan: String(COLUMNS.length + 2), class: 'table-empty' }, tt('repjs.nothing'))));
  const team = data.scope && data.scope.kind === 'team';
  setText($('rep-note'), [tt('repjs.zone', { zone: data.time_zone }), team ? tt('repjs.team_scope') : ''].filter(Boolean).join(' '));
}

/** The periods as a chart (one row per period, no split): answered and abandoned as bars, the service
 * level as a line on its own 0-100 % axis. Its summary sentence is for screen readers; the table is
 * the full text. */
function drawChart(q, data) {
  const box = $('rep-chart-box');
  const rows = data.rows;
  if (chart) { chart.destroy(); chart = null; }
  box.hidden = q.group !== 'none' || rows.length < 2 || !window.Chart;
  if (box.hidden) return;
  const level = rows.map((r) => (typeof r.service_level === 'number' ? Math.round(r.service_level * 1000) / 10 : null));
  chart = new window.Chart($('rep-chart'), {
    data: {
      labels: rows.map((r) => r.period),
      datasets: [
        { type: 'bar', label: tt('repjs.col_answered'), data: rows.map((r) => r.answered), backgroundColor: COLORS.answered, yAxisID: 'count', order: 1 },
        { type: 'bar', label: tt('repjs.col_abandoned'), data: rows.map((r) => r.abandoned), backgroundColor: COLORS.abandoned, yAxisID: 'count', order: 1 },
        { type: 'line', label: tt('repjs.col_service_level'), data: level, borderColor: COLORS.level, backgroundColor: COLORS.level, yAxisID: 'level', spanGaps: true, order: 0 },  // drawn over the bars
      ],
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      plugins: { legend: { labels: { color: COLORS.text } } },
      scales: {
        x: { ticks: { color: COLORS.text, maxRotation: 0, autoSkip: true }, grid: { color: COLORS.grid } },
        count: { position: 'left', beginAtZero: true, ticks: { color: COLORS.text, precision: 0 }, grid: { color: COLORS.grid } },
        level: { position: 'right', min: 0, max: 100, ticks: { color: COLORS.text, callback: (v) => `${v}%` }, grid: { display: false } },
      },
    },
  });
  const measured = rows.filter((r) => typeof r.service_level === 'number');
  const lowest = measured.reduce((low, r) => (low === null || r.service_level < low.service_level ? r : low), null);
  setText($('rep-chart-summary'), tt('repjs.chart_summary', {
    count: rows.length, answered: rows.reduce((n, r) => n + r.answered, 0), abandoned: rows.reduce((n, r) => n + r.abandoned, 0),
    lowest: lowest ? `${lowest.period} ${cellText('ratio', lowest.service_level)}` : '—' }));
}

async function show() {
  const q = query();
  $('rep-csv').setAttribute('href', historyPath(q, 'csv'));
  history.replaceState(null, '', `?${new URLSearchParams(q)}`);
  const data = await api.get(historyPath(q));
  shown = { q, data };
  $('rep-drill').hidden = true;
  render(q, data);
  drawChart(q, data);
}

async function drill(row, figure, q) {
  const zone = shown.data.time_zone;
  const params = new URLSearchParams({ from: centreDate(Date.parse(row.start), zone),
    to: centreDate(Date.parse(row.end) - 1, zone), figure });
  if (q.group !== 'none') params.set(q.group, row[q.group]);
  const data = await api.get(`/api/kpi/conversations?${params}`);
  const who = q.group === 'none' ? '' : keyLabel(q.group, row[q.group]);
  setText($('rep-drill-title'), tt('repjs.drill_title', { figure: tt(`repjs.col_${figure}`), period: row.period, who }));
  const rows = $('rep-drill-rows');
  clear(rows);
  for (const c of data.conversations) {
    rows.append(h('tr', { 'data-testid': 'rep-drill-row', dataset: { conversation: c.conversation_id } },
      h('td', {}, formatDate(c.at, { dateStyle: 'medium', timeStyle: 'short', timeZone: zone })), h('td', {}, c.conversation_id), h('td', {}, c.contact_name || '—'),
      h('td', {}, c.queue ? keyLabel('queue', c.queue) : '—'), h('td', {}, channelName(c.channel)),
      h('td', {}, c.agent ? keyLabel('agent', c.agent) : '—'), h('td', {}, stateName(c.state))));
  }
  if (data.truncated) rows.append(h('tr', {}, h('td', { colspan: '7', class: 'table-empty' }, tt('repjs.truncated'))));
  $('rep-drill').hidden = false;
  $('rep-drill').scrollIntoView({ block: 'nearest' });
}

/** Queue, agent and team names for the table (ids stay when a list is not the reader's to see). */
async function loadNames() {
  const [queues, overview, teams] = await Promise.all([
    api.get('/api/queues').catch(() => ({ queues: [] })),
    api.get('/api/supervisor/overview').catch(() => ({ agents: [] })),
    api.get('/api/teams').catch(() => ({ teams: [] }))]);
  for (const q of queues.queues || []) names.queue.set(q.id, q.name || q.id);
  for (const a of overview.agents || []) names.agent.set(a.id, a.display_name || a.username || a.id);
  for (const t of teams.teams || []) names.team.set(t.id, t.name || t.id);
}

async function main() {
  const booted = await bootPage(WATCHING, () => location.assign('/console/'));
  if (!booted) return;
  const asked = new URLSearchParams(location.search);
  const today = Date.now();
  $('rep-from').value = asked.get('from') || inputDate(today - 6 * DAY_MS);
  $('rep-to').value = asked.get('to') || inputDate(today);
  for (const name of ['by', 'group']) {
    const select = $(`rep-${name}`);
    if (Array.from(select.options).some((o) => o.value === asked.get(name))) select.value = asked.get(name);
  }
  $('rep-query').addEventListener('submit', (event) => {
    event.preventDefault();
    show().catch(toastError);
  });
  await loadNames();
  await show().catch(toastError);
}

main();
