// Work orders page (/console/work_orders): the orders this account may see (a department user:
// her department's), their SLA timers, and the actions her role allows. Text via textContent only.
import { api } from './api.js';
import { bootPage } from './topbar.js';
import { h, reconcile, setText, clear, clockTime, fullTime, toast, toastError } from './render.js';
import { t as tt } from './i18n.js';

const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
const ROLES = ['agent', 'team_leader', 'supervisor', 'admin', 'department'];
// What each side may do (hub/domain/visibility.py: work_order_sight); the server decides anyway.
const HANDLE = ['acknowledge', 'wait_customer', 'resume', 'reply'];
const MANAGE = ['dispatch', 'redispatch', 'close', 'reopen'];
const LABELS = {
  acknowledge: tt('wojs.on_site_contacted'), wait_customer: tt('wojs.wait_on_customer'), resume: tt('wojs.resume'), reply: tt('wojs.reply'),
  dispatch: tt('wojs.dispatch'), redispatch: 'Re-dispatch', close: tt('wojs.close'), reopen: tt('wojs.reopen'), note: tt('wojs.note'),
};

let me = null;
let orders = [];
let selected = null;
let departments = [];

function actionsFor(role) {
  if (role === 'department') return [...HANDLE, 'note'];
  if (role === 'supervisor' || role === 'admin') return [...MANAGE, ...HANDLE, 'note'];
  return [...MANAGE, 'note'];
}

function timerText(timer) {
  if (!timer) return '';
  const vars = { state: timer.state, percent: timer.percent, due: fullTime(timer.due_at) };
  return timer.due_at ? tt('wojs.timer_due', vars) : tt('wojs.timer', vars);
}

function renderOrders() {
  reconcile($('orders-body'), orders, (o) => o.id, (o) => {
    const tr = h('tr', { 'data-testid': 'order-row', onclick: () => select(o.id) });
    tr._cells = ['number', 'type', 'state', 'department', 'first', 'resolution', 'sla'].map(
      (name) => h('td', { 'data-testid': `order-${name}` }));
    tr.append(...tr._cells);
    return tr;
  }, (tr, o) => {
    const [number, type, state, department, first, resolution, sla] = tr._cells;
    setText(number, o.number);
    setText(type, o.type);
    setText(state, o.state);
    setText(department, o.department || '–');
    setText(first, timerText(o.timers.first_response));
    setText(resolution, timerText(o.timers.resolution));
    const breached = o.breached.length > 0;
    setText(sla, breached ? tt('wojs.breached', { timers: o.breached.join(', '), to: o.escalation || '' })
      : o.warned.length ? tt('wojs.warning', { timers: o.warned.join(', ') }) : tt('wojs.ok'));
    sla.className = breached ? 'sla-breached' : o.warned.length ? 'sla-warning' : '';
    tr.classList.toggle('is-selected', o.id === selected);
  });
  $('orders-empty').hidden = orders.length > 0;
}

async function refresh() {
  const params = new URLSearchParams();
  if ($('filter-state').value) params.set('state', $('filter-state').value);
  if ($('filter-breached').checked) params.set('breached', 'true');
  try {
    const data = await api.get(`/api/work_orders?${params}`);
    orders = Array.isArray(data.work_orders) ? data.work_orders : [];
    renderOrders();
    setText($('board-updated'), tt('wojs.updated', { time: clockTime(new Date().toISOString()) }));
    if (selected) await showDetail(selected);
  } catch (err) { toastError(err); }
}

async function select(id) {
  selected = id;
  renderOrders();
  await showDetail(id);
}

async function showDetail(id) {
  let order;
  try {
    order = (await api.get(`/api/work_orders/${encodeURIComponent(id)}`)).work_order;
  } catch (err) { toastError(err); return; }
  $('detail').hidden = false;
  setText($('detail-title'), `${order.number} · ${order.type} · ${order.state}`);
  const fields = $('detail-fields');
  clear(fields);
  for (const [name, value] of Object.entries(order.fields)) {
    fields.append(h('dt', { text: name }), h('dd', { text: value }));
  }
  const history = $('detail-history');
  clear(history);
  for (const e of order.history) {
    const extra = [e.department, e.timer, e.text].filter(Boolean).join(' · ');
    history.append(h('li', { 'data-testid': 'history-entry',
      text: `${fullTime(e.at)} ${e.action}${extra ? ` — ${extra}` : ''}` }));
  }
}

async function act(action) {
  if (!selected) return;
  const body = { text: $('action-text').value };
  if (action === 'dispatch' || action === 'redispatch') body.department = $('action-department').value;
  try {
    await api.post(`/api/work_orders/${encodeURIComponent(selected)}/${action}`, body);
    $('action-text').value = '';
    toast(tt('wojs.done', { action: LABELS[action] }), { kind: 'info', timeout: 3000 });
    await refresh();
  } catch (err) { toastError(err); }
}

// ---------------------------------------------------------------- a new order from a conversation

let types = [];

function renderCreateFields() {
  const holder = $('create-fields');
  clear(holder);
  const type = types.find((t) => t.type === $('create-type').value);
  for (const field of type ? type.fields : []) {
    holder.append(h('input', { 'data-testid': `create-field-${field.name}`, name: field.name, maxlength: 2000,
      placeholder: tt(field.required ? 'wojs.field' : 'wojs.field_optional', { name: field.name, label: field.label }), required: field.required }));
  }
}

async function openCreate(conversationId) {
  try {
    types = (await api.get('/api/work_orders/types')).types || [];
  } catch (err) { toastError(err); return; }
  $('create').hidden = false;
  setText($('create-conversation'), conversationId);
  for (const t of types) $('create-type').append(h('option', { value: t.type, text: t.type }));
  for (const d of departments) $('create-department').append(h('option', { value: d.id, text: d.name }));
  $('create-type').addEventListener('change', renderCreateFields);
  renderCreateFields();
  $('create-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fields = {};
    for (const input of $('create-fields').querySelectorAll('input')) if (input.value) fields[input.name] = input.value;
    const body = { conversation_id: conversationId, type: $('create-type').value, fields };
    if ($('create-department').value) body.department = $('create-department').value;
    try {
      const order = (await api.post('/api/work_orders', body)).work_order;
      toast(tt('wojs.opened', { number: order.number }), { kind: 'info', timeout: 4000 });
      $('create').hidden = true;
      await refresh();
      await select(order.id);
    } catch (err) { toastError(err); }
  });
}

function renderActions() {
  const holder = $('action-buttons');
  clear(holder);
  for (const action of actionsFor(me.role)) {
    holder.append(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': `action-${action}`,
      text: LABELS[action], onclick: () => act(action) }));
  }
  const select = $('action-department');
  select.hidden = me.role === 'department';
  for (const d of departments) select.append(h('option', { value: d.id, text: d.name }));
}

async function main() {
  const booted = await bootPage(ROLES, () => {
    $('board-denied').hidden = false;
    $('board-body').hidden = true;
  });
  if (!booted) return;
  me = booted.me.agent;
  $('nav-inbox').hidden = me.role === 'department';
  setText($('board-scope'), me.role === 'department' ? tt('wojs.department', { department: me.department || '' }) : '');
  try {
    departments = (await api.get('/api/departments')).departments || [];
  } catch (err) { toastError(err); }
  renderActions();
  const conversationId = new URLSearchParams(location.search).get('conversation');
  if (conversationId && me.role !== 'department') await openCreate(conversationId);
  $('action-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('filter-state').addEventListener('change', refresh);
  $('filter-breached').addEventListener('change', refresh);
  await refresh();
  setInterval(refresh, POLL_MS);
}

main();
