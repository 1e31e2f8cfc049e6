// Wallboard (/console/wallboard): a wall screen for supervisors. Waiting and agents live from the
// console socket (overview frames every second, conversation frames), the day's figures from
// /api/kpi/today and /api/kpi/history (every REFRESH_MS and shortly after a conversation changes).
import { api } from './api.js';
import { ConsoleSocket } from './ws.js';
import { setText } from './render.js';
import {
  WaitingTracker, countStates, orderedChannels, qualifiedFor, queueWaiting, servingChannel, staff,
} from './wallboard_model.js';
import { channelLabel, renderRows, renderTiles, rowsPanel } from './wallboard_view.js';
import { WallboardCharts } from './wallboard_charts.js';
import { agentRows, renderAgents } from './wallboard_agents.js';
import { locale, t as tt } from './i18n.js';

const REFRESH_MS = 10000;  // the day's figures; the projection follows the events within a second or two
const DEBOUNCE_MS = 1500;  // after a conversation frame, wait for the projection and for more frames
const STALE_MS = 5000;     // no overview frame for this long: the board says its data is stale
const WATCHING = new Set(['supervisor', 'admin', 'team_leader']);  // a team leader: her team's work only

const $ = (id) => document.getElementById(id);
$('wb-tables').prepend(
  rowsPanel({ title: tt('wb.queues'), first: tt('wb.queue'), testid: 'wb-queues', bodyId: 'queues-body' }),
  rowsPanel({ title: tt('wb.channels'), first: tt('wb.channel'), testid: 'wb-channels', bodyId: 'channels-body' }));
const state = {
  queues: [],           // /api/queues (id, name, skills)
  overview: null,       // the last overview frame
  overviewAt: 0,        // client ms when it came
  tracker: new WaitingTracker(),
  kpi: null,            // /api/kpi/today
  kpiError: null,
  intervals: [],        // /api/kpi/history rows of today, by quarter hour
  agentFigures: [],     // /api/kpi/history rows of today, by agent
  team: null,           // a team leader's team (/api/teams), shown in the title
  clockOffsetMs: 0,     // server clock minus ours, from /api/kpi/today's "now"
};
let charts = null;
let refreshTimer = null;
let refreshing = false;

const serverNow = () => Date.now() + state.clockOffsetMs;

function kpiOf(list, key, value) {
  return (list || []).find((row) => row[key] === value) || {};
}

function queueRows(agents, now, frameAgeS) {
  const live = (state.overview && state.overview.queues) || [];
  const known = new Map(state.queues.map((q) => [q.id, q]));
  const kpi = state.kpi || {};
  return live.map((q) => {
    const figures = kpiOf(kpi.queues, 'queue', q.id);
    const waiting = queueWaiting(q, state.tracker, frameAgeS, now);
    return {
      key: q.id, label: q.name || q.id, sl: figures.service_level ?? null,
      target: figures.service_level_target ?? kpi.service_level_target,
      threshold_s: figures.service_level_s ?? kpi.service_level_s,
      waiting: waiting.count, longest_s: waiting.longest_s,
      answered: state.kpi ? figures.answered ?? 0 : null, abandoned: state.kpi ? figures.abandoned ?? 0 : null,
      csat: figures.csat ?? null, surveys: figures.surveys_answered ?? 0, csat_mean: figures.csat_mean ?? null,
      agents: countStates(qualifiedFor(known.get(q.id), agents)),
    };
  });
}

function channelRows(agents, now) {
  const kpi = state.kpi || {};
  const withCapacity = agents.flatMap((a) => Object.keys(a.capacity || {}));
  const channels = orderedChannels((kpi.channels || []).map((c) => c.channel), state.tracker.channels(), withCapacity);
  return channels.map((channel) => {
    const figures = kpiOf(kpi.channels, 'channel', channel);
    const waiting = state.tracker.stats((i) => i.channel === channel, now);
    return {
      key: channel, label: channelLabel(channel), sl: figures.service_level ?? null,
      target: kpi.service_level_target, threshold_s: kpi.service_level_s,
      waiting: waiting.count, longest_s: waiting.longest_s,
      answered: state.kpi ? figures.answered ?? 0 : null, abandoned: state.kpi ? figures.abandoned ?? 0 : null,
      csat: figures.csat ?? null, surveys: figures.surveys_answered ?? 0, csat_mean: figures.csat_mean ?? null,
      agents: countStates(servingChannel(channel, agents)),
    };
  });
}

function totals(queues, agents) {
  const kpi = state.kpi || {};
  const total = kpi.total || {};
  return {
    sl: total.service_level ?? null, target: kpi.service_level_target, threshold_s: kpi.service_level_s,
    waiting: queues.reduce((n, q) => n + q.waiting, 0),
    longest_s: queues.reduce((m, q) => Math.max(m, q.longest_s), 0),
    over: queues.some((q) => q.longest_s > (q.threshold_s ?? Infinity)),  // each queue by its own threshold
    answered: state.kpi ? total.answered ?? 0 : null, abandoned: state.kpi ? total.abandoned ?? 0 : null,
    offered: state.kpi ? total.offered ?? 0 : null, asa_s: total.asa_s ?? null,
    occupancy: total.occupancy ?? null, aht_s: total.aht_s ?? null,
    agents: countStates(agents),
  };
}

/** Everything but the charts; runs every second (the waits tick) and on every frame. */
function render() {
  const now = serverNow();
  const frameAgeS = state.overviewAt ? Math.max(0, (Date.now() - state.overviewAt) / 1000) : 0;
  const agents = staff(state.overview && state.overview.agents);
  const queues = queueRows(agents, now, frameAgeS);
  renderRows($('queues-body'), queues, 'wb-queue-row');
  renderRows($('channels-body'), channelRows(agents, now), 'wb-channel-row');
  renderTiles(totals(queues, agents));
  renderAgents($('agents-body'), agentRows(agents, state.agentFigures));
  renderClock(now);
  const stale = !state.overviewAt || Date.now() - state.overviewAt > STALE_MS;
  document.body.classList.toggle('is-stale', stale);
  setText($('wb-updated'), stale ? tt('wbjs.live_data_is_late_reconnecting')
    : state.kpiError ? tt('wbjs.live_unavailable') : tt('wbjs.live_as_of', { time: clock(state.kpi && state.kpi.now) }));
}

function clock(iso, withSeconds = true) {
  const t = Date.parse(iso || '');
  if (!Number.isFinite(t)) return '–';
  const zone = (state.kpi && state.kpi.time_zone) || undefined;
  return new Intl.DateTimeFormat(locale(), {
    hour: '2-digit', minute: '2-digit', second: withSeconds ? '2-digit' : undefined, hour12: false, timeZone: zone,
  }).format(new Date(t));
}

function renderClock(now) {
  setText($('wb-clock'), clock(new Date(now).toISOString()));
  if (state.kpi) setText($('wb-day'), `${state.kpi.day} · ${state.kpi.time_zone}`);
}

function renderCharts() {
  if (!charts || !state.kpi) return;
  const dayStart = Date.parse(state.kpi.from);
  charts.showIntervals(state.intervals, state.kpi.time_zone, dayStart, Date.parse(state.kpi.now));
  // Every queue, measured or not yet, so the bars keep their places through the day.
  const names = new Map((state.overview?.queues || state.queues).map((q) => [q.id, q.name || q.id]));
  for (const q of state.kpi.queues || []) if (!names.has(q.queue)) names.set(q.queue, q.queue);
  const levels = Array.from(names, ([id, label]) => {
    const q = kpiOf(state.kpi.queues, 'queue', id);
    return { key: id, label, sl: q.service_level ?? null, target: q.service_level_target ?? state.kpi.service_level_target };
  });
  charts.showLevels(levels);
}

async function refreshFigures() {
  if (refreshing) { scheduleRefresh(DEBOUNCE_MS); return; }
  refreshing = true;
  try {
    const sent = Date.now();
    const today = await api.get('/api/kpi/today');
    state.clockOffsetMs = Date.parse(today.now) - (sent + Date.now()) / 2 || 0;
    const query = new URLSearchParams({ from: today.day, to: today.day, by: 'interval' });
    const [history, byAgent] = await Promise.all([
      api.get(`/api/kpi/history?${query}`), api.get(`/api/kpi/history?${query}&group=agent`)]);
    state.kpi = today;
    state.intervals = Array.isArray(history.rows) ? history.rows : [];
    state.agentFigures = Array.isArray(byAgent.rows) ? byAgent.rows : [];
    state.kpiError = null;
    renderCharts();
  } catch (err) {
    state.kpiError = err;
    if (err.status === 403) showDenied();
  } finally {
    refreshing = false;
    render();
    scheduleRefresh(REFRESH_MS);
  }
}

function scheduleRefresh(ms) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refreshFigures, ms);
}

async function loadWaiting() {
  const inbox = await api.get('/api/inbox');
  state.tracker.reset([...(inbox.queued || []), ...(inbox.offers || [])]);
}

function onFrame(frame) {
  if (frame.type === 'overview' && frame.overview) {
    state.overview = frame.overview;
    state.overviewAt = Date.now();
    render();
  } else if (frame.type === 'conversation' && frame.conversation) {
    state.tracker.upsert(frame.conversation);
    render();
    scheduleRefresh(DEBOUNCE_MS);
  } else if (frame.type === 'conversation_gone') {
    state.tracker.remove(frame.conversation_id);
    render();
  } else if (frame.type === 'call' && frame.event === 'ended') {
    scheduleRefresh(DEBOUNCE_MS);
  }
}

/** A team leader's board: her team's name in the title; queue figures are the queues', not hers. */
async function showTeam() {
  document.body.classList.add('is-team');
  const teams = await api.get('/api/teams').catch(() => ({ teams: [] }));
  state.team = (teams.teams || [])[0] || null;
  setText($('wb-scope'), ` · ${state.team ? state.team.name : 'Your team'}`);
  setText($('wb-legend'), tt('wbjs.team_view_answered_handled_aht_and_o')
    + tt('wbjs.waiting_and_service_level_belong_to'));
}

function showDenied() {
  $('wb-main').hidden = true;
  $('wb-denied').hidden = false;
}

function setConnection(s) {
  const conn = $('wb-conn');
  conn.className = `wb-conn conn-${s}`;
  setText(conn, s === 'open' ? tt('wbjs.live') : tt('wbjs.reconnecting'));
}

async function main() {
  let me;
  try { me = await api.get('/api/me'); } catch { return; }  // 401: api.js went to the login page
  document.body.classList.remove('is-booting');
  if (!WATCHING.has(me.agent && me.agent.role)) { showDenied(); return; }
  if (me.agent.role === 'team_leader') await showTeam();
  if (window.Chart) charts = new WallboardCharts(window.Chart);
  else setText($('wb-updated'), tt('wbjs.charts_unavailable_chart_js_did_not'));
  const [queues, overview] = await Promise.all([api.get('/api/queues'), api.get('/api/supervisor/overview')]);
  state.queues = queues.queues || [];
  onFrame({ type: 'overview', overview });
  await loadWaiting();
  const socket = new ConsoleSocket({
    onFrame,
    onState: setConnection,
    onOpen: ({ reconnect }) => { if (reconnect) { loadWaiting().then(render, () => {}); scheduleRefresh(0); } },
    beforeReconnect: () => api.get('/api/me'),
  });
  socket.start();
  setInterval(render, 1000);
  await refreshFigures();
}

main();
