// Wallboard "Agents" panel: each agent the viewer watches (a team leader: her team's members, as the
// overview frame and /api/kpi/history already restrict them), her wall state and today's figures.
// Server data reaches the DOM only through textContent (render.js).
import { h, reconcile, setText, mmss } from './render.js';
import { AGENT_STATE_LABELS, agentState, percent } from './wallboard_model.js';

const CELLS = ['name', 'state', 'answered', 'handled', 'aht', 'occupancy'];

/** Rows to show: the live agents joined to their rows of today's figures (group=agent), by name. */
export function agentRows(agents, figureRows) {
  const figures = new Map((figureRows || []).map((r) => [r.agent, r]));
  return agents.map((a) => {
    const f = figures.get(a.id) || {};
    return {
      key: a.id, label: a.display_name || a.username || a.id, state: agentState(a),
      answered: f.answered ?? 0, handled: f.handled ?? 0, aht_s: f.aht_s ?? null, occupancy: f.occupancy ?? null,
    };
  }).sort((x, y) => x.label.localeCompare(y.label));
}

function makeRow() {
  const tr = h('tr', { 'data-testid': 'wb-agent-row' });
  tr._cells = {};
  for (const name of CELLS) {
    tr._cells[name] = h(name === 'name' ? 'th' : 'td', {
      class: name === 'name' ? 'cell-name' : (name === 'state' ? 'cell-state' : 'num'),
      'data-testid': name, scope: name === 'name' ? 'row' : null,
    });
  }
  tr.append(...CELLS.map((name) => tr._cells[name]));
  return tr;
}

export function renderAgents(tbody, rows) {
  reconcile(tbody, rows, (r) => r.key, makeRow, (tr, r) => {
    const c = tr._cells;
    tr.dataset.id = r.key;
    setText(c.name, r.label);
    setText(c.state, AGENT_STATE_LABELS[r.state] || r.state);
    c.state.className = `cell-state wb-${r.state}`;
    setText(c.answered, r.answered);
    setText(c.handled, r.handled);
    setText(c.aht, typeof r.aht_s === 'number' ? mmss(r.aht_s) : '–');
    setText(c.occupancy, percent(r.occupancy));
  });
}
