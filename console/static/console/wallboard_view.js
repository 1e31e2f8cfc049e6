// Wallboard tiles and tables. Server data reaches the DOM only through textContent (render.js).
import { h, reconcile, setText, mmss, channelName } from './render.js';
import { AGENT_STATES, AGENT_STATE_LABELS, percent, underTarget } from './wallboard_model.js';
import { t as tt } from './i18n.js';

const SHORT_LABELS = { available: tt('wbview.avail'), chat: tt('wbview.chat'), call: tt('wbview.call'), away: tt('wbview.away'), offline: tt('wbview.off') };

/** Chips "Avail 3 · Chat 1 …": a label beside each number, so colour is never the only cue. */
function agentChips(counts) {
  return AGENT_STATES.map((state) => h('span', {
    class: `wb-chip wb-${state}${counts[state] ? '' : ' is-zero'}`,
    'data-testid': `agents-${state}`,
    'data-count': counts[state],
    title: AGENT_STATE_LABELS[state],
  }, h('span', { class: 'wb-chip-label', text: SHORT_LABELS[state] }), ' ',
  h('span', { class: 'wb-chip-count', text: counts[state] })));
}

function setChips(cell, counts) {
  const sig = AGENT_STATES.map((s) => counts[s]).join(',');
  if (cell.dataset.sig === sig) return;
  cell.dataset.sig = sig;
  cell.replaceChildren(...agentChips(counts));
}

function setServiceLevel(cell, ratio, target) {
  setText(cell, percent(ratio));
  const under = underTarget(ratio, target);
  cell.classList.toggle('is-under', under);
  cell.classList.toggle('is-met', typeof ratio === 'number' && !under);
  cell.title = typeof target === 'number' ? tt('wbview.target', { target: percent(target) }) : '';
  cell.dataset.under = under ? 'true' : 'false';
}

function setWait(cell, seconds, thresholdS) {
  setText(cell, mmss(seconds));
  cell.classList.toggle('is-over', typeof thresholdS === 'number' && seconds > thresholdS);
}

const CELLS = ['name', 'sl', 'waiting', 'longest', 'answered', 'abandoned', 'csat', 'agents'];
const CELL_CLASS = { name: 'cell-name', agents: 'cell-agents' };

function makeRow(testid) {
  const tr = h('tr', { 'data-testid': testid });
  tr._cells = {};
  for (const name of CELLS) {
    const cls = CELL_CLASS[name] || 'num';
    tr._cells[name] = h(name === 'name' ? 'th' : 'td', { class: cls, 'data-testid': name, scope: name === 'name' ? 'row' : null });
  }
  tr.append(...CELLS.map((name) => tr._cells[name]));
  return tr;
}

/** CSAT "80 % (5)": the share of 4-5 among today's answered surveys and how many answered; the mean as title. */
function setCsat(cell, csat, answered, mean) {
  setText(cell, typeof csat === 'number' ? `${percent(csat)} (${answered})` : '–');
  cell.title = typeof mean === 'number' ? tt('wbview.mean', { score: mean.toFixed(1) }) : tt('wbview.no_survey_answered_today');
}

/** A panel of rows by queue or by channel (``renderRows`` fills the body ``bodyId``); the same
 * columns either way, the first one named ``first``. */
export function rowsPanel({ title, first, testid, bodyId }) {
  const col = (text, num, props = {}) => h('th', { scope: 'col', class: num ? 'num' : null, text, ...props });
  return h('div', { class: 'wb-panel' },
    h('h2', { class: 'wb-panel-title', text: title }),
    h('table', { class: 'wb-table', 'data-testid': testid },
      h('thead', null, h('tr', null,
        col(first, false), col(tt('wb.service_level'), true), col(tt('wb.waiting'), true),
        col(tt('wb.longest'), true), col(tt('wb.answered'), true), col(tt('wb.abandoned'), true),
        col(tt('wb.csat'), true, { title: tt('wb.satisfaction_today_surveys_scored_4_or_5') }),
        col(tt('wb.agents'), false))),
      h('tbody', { id: bodyId })));
}

/** rows: [{key, label, sl, target, waiting, longest_s, threshold_s, answered, abandoned, csat, surveys,
 *          csat_mean, agents}] */
export function renderRows(tbody, rows, testid) {
  reconcile(tbody, rows, (r) => r.key, () => makeRow(testid), (tr, r) => {
    const c = tr._cells;
    tr.dataset.id = r.key;
    setText(c.name, r.label);
    setServiceLevel(c.sl, r.sl, r.target);
    setText(c.waiting, r.waiting);
    c.waiting.classList.toggle('is-active', r.waiting > 0);
    setWait(c.longest, r.longest_s, r.threshold_s);
    setText(c.answered, r.answered ?? '–');
    setText(c.abandoned, r.abandoned ?? '–');
    setCsat(c.csat, r.csat, r.surveys, r.csat_mean);
    setChips(c.agents, r.agents);
  });
}

const CHANNEL_LABELS = { telegram: tt('wbview.telegram') };

export function channelLabel(channel) {
  return CHANNEL_LABELS[channel] || channelName(channel);
}

/** The top tiles: all queues together. */
export function renderTiles(total) {
  const $ = (id) => document.getElementById(id);
  setText($('tile-sl-value'), percent(total.sl));
  setText($('tile-sl-note'), typeof total.target === 'number' ? tt('wbview.target_lower', { target: percent(total.target) }) : '');
  $('tile-sl').classList.toggle('is-under', underTarget(total.sl, total.target));
  $('tile-sl').classList.toggle('is-met', typeof total.sl === 'number' && !underTarget(total.sl, total.target));
  setText($('tile-waiting'), total.waiting);
  setText($('tile-longest-value'), mmss(total.longest_s));
  setText($('tile-longest-note'), typeof total.threshold_s === 'number' ? tt('wbview.within', { count: total.threshold_s }) : '');
  $('tile-longest').classList.toggle('is-over', total.over);
  setText($('tile-answered'), total.answered ?? '–');
  setText($('tile-asa'), typeof total.asa_s === 'number' ? tt('wbview.asa', { time: mmss(total.asa_s) }) : '');
  setText($('tile-abandoned'), total.abandoned ?? '–');
  setText($('tile-offered'), typeof total.offered === 'number' ? tt('wbview.of_offered', { count: total.offered }) : '');
  setText($('tile-occupancy'), percent(total.occupancy));
  setText($('tile-aht'), typeof total.aht_s === 'number' ? tt('wbview.aht', { time: mmss(total.aht_s) }) : '');
  const agents = $('tile-agents');
  const sig = AGENT_STATES.map((s) => total.agents[s]).join(',');
  if (agents.dataset.sig !== sig) {
    agents.dataset.sig = sig;
    agents.replaceChildren(...AGENT_STATES.map((state) => h('div', {
      class: `wb-agent-line wb-${state}`, 'data-testid': `total-agents-${state}`,
    }, h('span', { class: 'wb-agent-count', text: total.agents[state] }),
    h('span', { class: 'wb-agent-label', text: AGENT_STATE_LABELS[state] }))));
  }
}

