// Supervisor page (/console/supervisor): live queue and agent tables from `overview` frames.
// A team leader gets the same page over her team's members only (the server filters the agents,
// in the overview API and in her socket's overview frames).
import { api } from './api.js';
import { ConsoleSocket } from './ws.js';
import { bootPage, stateLabel } from './topbar.js';
import { channelName, h, reconcile, setText, mmss, secondsSince, slug, toastError } from './render.js';
import { formatDate, t as tt } from './i18n.js';

const SLA_SECONDS = 60;
const POLL_MS = 5000;
const STATUS_ORDER = { available: 0, paused: 1, away: 2, offline: 3 };

const $ = (id) => document.getElementById(id);
let lastOverviewAt = 0;
let denied = false;

function cell(testid, cls) {
  return h('td', { 'data-testid': testid, class: cls || null });
}

function renderQueues(queues) {
  reconcile($('queues-body'), queues, (q) => q.id, () => {
    const tr = h('tr', { 'data-testid': 'queue-row' });
    tr._cells = {
      name: cell('queue-name', 'cell-name'),
      waiting: cell('waiting', 'num'),
      offered: cell('offered', 'num'),
      longest: cell('longest-wait', 'num cell-wait'),
    };
    tr.append(tr._cells.name, tr._cells.waiting, tr._cells.offered, tr._cells.longest);
    return tr;
  }, (tr, q) => {
    const c = tr._cells;
    tr.dataset.queueId = q.id;
    setText(c.name, q.name || q.id);
    setText(c.waiting, Number(q.waiting) || 0);
    setText(c.offered, Number(q.offered) || 0);
    const wait = Number(q.longest_wait_s) || 0;
    setText(c.longest, mmss(wait));
    const breach = wait > SLA_SECONDS;
    c.longest.classList.toggle('is-breach', breach);
    tr.classList.toggle('row-breach', breach);
    c.longest.title = breach ? tt('supjs.over_target', { count: SLA_SECONDS }) : '';
  });
  $('queues-empty').hidden = queues.length > 0;
}

function loadChips(agent) {
  const load = agent.load || {};
  const capacity = agent.capacity || {};
  const channels = Array.from(new Set([...Object.keys(capacity), ...Object.keys(load)])).sort();
  const nodes = [];
  channels.forEach((ch, i) => {
    const used = Number(load[ch]) || 0;
    const cap = Number(capacity[ch]) || 0;
    const full = cap > 0 && used >= cap;
    if (i > 0) nodes.push(document.createTextNode(' '));
    nodes.push(h('span', {
      class: `load-chip${full ? ' is-full' : ''}${used > 0 ? ' is-busy' : ''}`,
      title: tt('supjs.load_title', { used, cap, channel: channelName(ch) }),
      text: `${ch} ${used}/${cap}`,
    }));
  });
  return nodes;
}

function renderAgents(agents) {
  const sorted = [...agents].sort((a, b) =>
    (STATUS_ORDER[a.status] ?? 9) - (STATUS_ORDER[b.status] ?? 9)
    || String(a.display_name || '').localeCompare(String(b.display_name || '')));
  reconcile($('agents-body'), sorted, (a) => a.id, () => {
    const tr = h('tr', { 'data-testid': 'agent-row' });
    const dot = h('span', { class: 'status-dot', 'aria-hidden': 'true' });
    const label = h('span', { class: 'status-label' });
    tr._cells = {
      name: cell('agent-name-cell', 'cell-name'),
      status: cell('status', 'cell-status'),
      since: cell('in-state', 'num cell-in-state'),
      online: cell('online', 'cell-online'),
      load: cell('load', 'cell-load'),
    };
    tr._cells.status.append(dot, label);
    tr._dot = dot;
    tr._label = label;
    tr.append(tr._cells.name, tr._cells.status, tr._cells.since, tr._cells.online, tr._cells.load);
    return tr;
  }, (tr, a) => {
    const c = tr._cells;
    tr.dataset.agentId = a.id;
    tr.dataset.status = a.status || '';
    setText(c.name, a.display_name || a.username || a.id);
    tr._dot.className = `status-dot status-${slug(a.status)}`;
    setText(tr._label, stateLabel(a.status, a.pause_reason));
    c.status.dataset.status = a.status || '';
    c.status.dataset.reason = a.pause_reason || '';
    c.since.dataset.since = a.status_since || '';
    setText(c.since, a.status_since ? mmss(secondsSince(a.status_since)) : '');
    setText(c.online, a.online ? tt('supjs.online') : tt('supjs.offline'));
    c.online.classList.toggle('is-online', !!a.online);
    const key = JSON.stringify([a.load || {}, a.capacity || {}]);
    if (c.load.dataset.sig !== key) {
      c.load.dataset.sig = key;
      c.load.replaceChildren(...loadChips(a));
    }
  });
  $('agents-empty').hidden = agents.length > 0;
}

function render(overview) {
  if (!overview || typeof overview !== 'object') return;
  lastOverviewAt = Date.now();
  const queues = Array.isArray(overview.queues) ? overview.queues : [];
  const agents = Array.isArray(overview.agents) ? overview.agents : [];
  renderQueues(queues);
  renderAgents(agents);

  const waiting = queues.reduce((n, q) => n + (Number(q.waiting) || 0), 0);
  const offered = queues.reduce((n, q) => n + (Number(q.offered) || 0), 0);
  const longest = queues.reduce((m, q) => Math.max(m, Number(q.longest_wait_s) || 0), 0);
  const available = agents.filter((a) => a.status === 'available' && a.online).length;
  setText($('tile-waiting'), waiting);
  setText($('tile-offered'), offered);
  setText($('tile-longest'), mmss(longest));
  $('tile-longest-box').classList.toggle('is-breach', longest > SLA_SECONDS);
  setText($('tile-agents'), `${available} / ${agents.length}`);
  setText($('board-updated'), tt('supjs.updated', { time: formatDate(new Date(), { timeStyle: 'medium' }) }));
}

/** Time in state ticks every second between overviews. */
function tickInState() {
  for (const td of document.querySelectorAll('[data-testid="in-state"]')) {
    if (td.dataset.since) setText(td, mmss(secondsSince(td.dataset.since)));
  }
}

async function showTeam() {
  try {
    const { teams } = await api.get('/api/teams');
    const names = (teams || []).map((t) => t.name).join(', ');
    setText($('board-team'), names ? tt('supjs.team', { names }) : tt('supjs.no_team_yet'));
    $('board-team').hidden = false;
  } catch (err) {
    toastError(err);
  }
}

function showDenied() {
  denied = true;
  $('board-body').hidden = true;
  $('board-denied').hidden = false;
  setText($('board-updated'), '');
}

async function fetchOverview() {
  try {
    render(await api.get('/api/supervisor/overview'));
  } catch (err) {
    if (err.status === 403) showDenied();
    else toastError(err);
  }
}

async function main() {
  const page = await bootPage(['supervisor', 'admin', 'team_leader'], showDenied);
  if (!page) return;
  const { topbar, me } = page;
  const teamLeader = me.agent && me.agent.role === 'team_leader';
  if (teamLeader) showTeam();
  await fetchOverview();
  if (denied) return;
  setInterval(tickInState, 1000);

  const socket = new ConsoleSocket({
    onFrame: (frame) => {
      if (frame.type === 'overview') render(frame.overview);
      else if (frame.type === 'hello' && frame.agent) topbar.update(frame.agent);
    },
    onState: (s, info) => topbar.setConnection(s, info),
    onOpen: ({ reconnect }) => { if (reconnect) fetchOverview(); },
    beforeReconnect: () => api.get('/api/me'),
  });
  socket.start();

  // Fallback while the socket is down or quiet.
  setInterval(() => {
    if (!denied && Date.now() - lastOverviewAt > POLL_MS) fetchOverview();
  }, POLL_MS);
}

main();
