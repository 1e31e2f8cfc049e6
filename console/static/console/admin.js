// Administration (/console/admin). Admins: agents (create, skills, capacities, role, password,
// disable), queues, canned replies, wrap-up codes, teams and the audit trail. Supervisors: agents'
// statuses, reassigning a conversation, and the content sections (admin_content.js). Every change
// goes through the console API, which records it in the audit trail; nothing needs a restart.
import { api } from './api.js';
import { bootPage, stateLabel } from './topbar.js';
import { h } from './render.js';
import { button, enc, field, fill, form, list, section, select, send, table } from './admin_ui.js';
import { contentSections } from './admin_content.js';
import { formatDate, t as tt } from './i18n.js';

const CHANNELS = ['webchat', 'sms', 'email', 'telegram', 'voice'];
const ROLES = ['agent', 'team_leader', 'supervisor', 'trainer', 'admin'];
const STATUSES = ['available', 'away', 'offline'];
let reasons = [];

function capacityText(capacity) {
  return CHANNELS.map((c) => `${c} ${capacity?.[c] ?? 0}`).join(' · ');
}

function capacityFields(capacity) {
  return CHANNELS.map((c) => field(c, { type: 'number', name: `cap_${c}`, min: 0, max: 50, value: capacity?.[c] ?? 0 }));
}

function capacityOf(values) {
  return Object.fromEntries(CHANNELS.map((c) => [c, Number(values[`cap_${c}`] || 0)]));
}

function statusPicker(agent, reload) {
  const options = [...STATUSES.map((s) => [s, stateLabel(s)]), ...reasons.map((r) => [`paused:${r.code}`, stateLabel('paused', r.code)])];
  const current = agent.status === 'paused' ? `paused:${agent.pause_reason}` : agent.status;
  if (!options.some(([v]) => v === current)) options.push([current, stateLabel(agent.status, agent.pause_reason)]);
  const picker = h('select', { 'aria-label': tt('adminjs.status_of', { username: agent.username }), 'data-testid': 'agent-status-set' },
    ...options.map(([v, text]) => h('option', { value: v, selected: v === current }, text)));
  picker.addEventListener('change', async () => {
    const [status, reason] = picker.value.split(':');
    try {
      await send('POST', `/api/agents/${enc(agent.username)}/status`, reason ? { status, reason } : { status });
    } catch (err) { picker.value = current; throw err; } finally { await reload(); }
  });
  return picker;
}

function agentEditor(agent, reload) {
  return form('agent-edit', [
    field(tt('adminjs.name'), { name: 'display_name', value: agent.display_name, maxlength: 100, required: true }),
    select(tt('adminjs.role'), 'role', ROLES.map((r) => [r, r]), agent.role),
    field(tt('adminjs.skills_comma_separated'), { name: 'skills', value: (agent.skills || []).join(', '), maxlength: 600 }),
    ...capacityFields(agent.capacity),
  ], tt('adminjs.save_agent', { username: agent.username }), (v) => send('PATCH', `/api/agents/${enc(agent.username)}`, {
    display_name: v.display_name, role: v.role, skills: list(v.skills), capacity: capacityOf(v) }), reload);
}

async function agentsSection(el, me) {
  const body = h('div');
  const isAdmin = me.role === 'admin';
  const editor = h('div', { 'data-testid': 'agent-editor' });
  const reload = () => fill(body, async () => {
    const { agents } = await api.get('/api/admin/agents');
    return table([
      { title: tt('adminjs.username'), cell: (a) => a.username },
      { title: tt('adminjs.name'), cell: (a) => a.display_name },
      { title: tt('adminjs.role'), cell: (a) => a.role },
      { title: tt('adminjs.skills'), cell: (a) => (a.skills || []).join(', ') },
      { title: tt('adminjs.capacity'), cell: (a) => capacityText(a.capacity) },
      { title: tt('adminjs.status'), cell: (a) => (a.disabled ? tt('adminjs.disabled') : statusPicker(a, reload)) },
      { title: tt('adminjs.actions'), class: 'adm-actions', cell: (a) => (isAdmin ? h('span', null,
        button(tt('adminjs.edit'), 'agent-edit-open', async () => editor.replaceChildren(agentEditor(a, reload))),
        button(tt('adminjs.reset_password'), 'agent-password', async () => {
          const password = window.prompt(tt('adminjs.new_password', { username: a.username }));
          if (password) await send('POST', `/api/agents/${enc(a.username)}/password`, { new_password: password });
        }),
        button(a.disabled ? tt('adminjs.enable') : tt('adminjs.disable'), 'agent-disable',
          () => send('POST', `/api/agents/${enc(a.username)}/${a.disabled ? 'enable' : 'disable'}`, {}), reload),
      ) : '') },
    ], agents, 'agent-row');
  });
  el.append(body, editor);
  if (isAdmin) {
    el.appendChild(h('h3', null, tt('adminjs.new_agent')));
    el.appendChild(form('agent-create', [
      field(tt('adminjs.username'), { name: 'username', required: true, maxlength: 50, pattern: '[A-Za-z0-9_.\\-]+' }),
      field(tt('adminjs.name'), { name: 'display_name', required: true, maxlength: 100 }),
      select(tt('adminjs.role'), 'role', ROLES.map((r) => [r, r]), 'agent'),
      field(tt('adminjs.password'), { name: 'password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password' }),
      field(tt('adminjs.skills_comma_separated'), { name: 'skills', maxlength: 600 }),
      ...capacityFields({ webchat: 3, sms: 3, email: 5, telegram: 3, voice: 1 }),
    ], tt('adminjs.create_agent'), async (v, f) => {
      await send('POST', '/api/agents', { username: v.username, display_name: v.display_name, role: v.role,
        password: v.password, skills: list(v.skills), capacity: capacityOf(v) });
      f.reset();
    }, reload));
  }
  await reload();
}

async function reassignSection(el) {
  const { queues } = await api.get('/api/queues');
  el.appendChild(h('p', { class: 'adm-status' }, tt('adminjs.move_a_conversation_to_another_queue')));
  el.appendChild(form('reassign', [
    field(tt('adminjs.conversation_id'), { name: 'conversation', required: true, maxlength: 100 }),
    select(tt('adminjs.queue'), 'queue', queues.map((q) => [q.id, q.name])),
  ], tt('adminjs.reassign'), (v) => send('POST', `/api/conversations/${enc(v.conversation.trim())}/transfer`, { queue: v.queue })));
}

function hoursText(hours) {
  return Object.entries(hours || {}).map(([day, window]) => `${day} ${window}`).join(', ');
}

/** "mon=08:00-20:00, tue=08:00-20:00" -> {mon: "08:00-20:00", …}; the hub checks the windows. */
function hoursOf(text) {
  return Object.fromEntries(list(text).map((part) => part.split('=').map((x) => x.trim())));
}

async function queuesSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: tt('adminjs.id'), cell: (q) => q.id }, { title: tt('adminjs.name'), cell: (q) => q.name },
    { title: tt('adminjs.skills'), cell: (q) => q.skills.join(', ') }, { title: tt('adminjs.priority'), cell: (q) => String(q.priority ?? '') },
    { title: tt('adminjs.business_hours'), cell: (q) => hoursText(q.hours) || tt('adminjs.always_open') },
  ], (await api.get('/api/queues')).queues, 'queue-row'));
  el.append(body, form('queue-save', [
    field(tt('adminjs.id'), { name: 'id', required: true, maxlength: 50, pattern: '[A-Za-z0-9_\\-]+' }),
    field(tt('adminjs.name'), { name: 'name', required: true, maxlength: 100 }),
    field(tt('adminjs.skills_comma_separated'), { name: 'skills', maxlength: 600 }),
    field(tt('adminjs.priority'), { name: 'priority', type: 'number', min: 0, max: 100, value: 0 }),
    field(tt('adminjs.business_hours_mon_08_00_20_00_sat_0'), { name: 'hours', maxlength: 200 }),
  ], tt('adminjs.save_queue'), (v) => send('PUT', `/api/queues/${enc(v.id)}`, { name: v.name, skills: list(v.skills),
    priority: Number(v.priority || 0), hours: hoursOf(v.hours) }), reload));
  await reload();
}

async function cannedSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: tt('adminjs.title'), cell: (c) => c.title }, { title: tt('adminjs.text'), cell: (c) => c.text },
    { title: '', class: 'adm-actions', cell: (c) => button(tt('adminjs.delete'), 'canned-delete', () => send('DELETE', `/api/canned_replies/${enc(c.id)}`), reload) },
  ], (await api.get('/api/canned_replies')).canned_replies, 'canned-row'));
  el.append(body, form('canned-save', [
    field(tt('adminjs.title'), { name: 'title', required: true, maxlength: 100 }),
    field(tt('adminjs.text_customer_name_agent_name_order'), { name: 'text', required: true, maxlength: 2000 }, 'textarea'),
  ], tt('adminjs.add_canned_reply'), (v, f) => send('POST', '/api/canned_replies', v).then(() => f.reset()), reload));
  await reload();
}

async function codesSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: tt('adminjs.code'), cell: (c) => c.code }, { title: tt('adminjs.label'), cell: (c) => c.label },
    { title: '', class: 'adm-actions', cell: (c) => button(tt('adminjs.delete_code'), 'code-delete',
      () => send('DELETE', `/api/wrap_up_codes/${enc(c.code)}`), reload) },
  ], (await api.get('/api/wrap_up_codes')).codes, 'code-row'));
  el.append(body, form('code-save', [
    field(tt('adminjs.code'), { name: 'code', required: true, maxlength: 50, pattern: '[A-Za-z0-9_\\-]+' }),
    field(tt('adminjs.label'), { name: 'label', required: true, maxlength: 100 }),
  ], tt('adminjs.save_code'), (v) => send('PUT', `/api/wrap_up_codes/${enc(v.code)}`, { label: v.label }), reload));
  await reload();
}

async function teamsSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: tt('adminjs.id'), cell: (t) => t.id }, { title: tt('adminjs.name'), cell: (t) => t.name },
    { title: tt('adminjs.leader'), cell: (t) => t.leader?.username || '' },
    { title: tt('adminjs.members'), cell: (t) => (t.members || []).map((m) => m.username).join(', ') },
  ], (await api.get('/api/teams')).teams, 'team-row'));
  el.append(body, form('team-save', [
    field(tt('adminjs.id'), { name: 'id', required: true, maxlength: 100, pattern: '[A-Za-z0-9_.\\-]+' }),
    field(tt('adminjs.name'), { name: 'name', required: true, maxlength: 100 }),
    field(tt('adminjs.leader_username'), { name: 'leader', required: true, maxlength: 100 }),
    field(tt('adminjs.members_usernames_comma_separated'), { name: 'members', maxlength: 5000 }),
  ], tt('adminjs.save_team'), (v) => send('POST', '/api/teams', { ...v, members: list(v.members) }), reload));
  await reload();
}

function json(value) {
  return h('pre', { class: 'adm-json' }, value ? JSON.stringify(value, null, 1) : '—');
}

async function auditSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: tt('adminjs.when'), cell: (e) => (e.at ? formatDate(e.at) : '') },
    { title: tt('adminjs.who'), cell: (e) => e.actor_name || e.actor || '' },
    { title: tt('adminjs.what'), cell: (e) => e.action }, { title: tt('adminjs.record'), cell: (e) => e.target || '' },
    { title: tt('adminjs.before'), cell: (e) => json(e.before) }, { title: tt('adminjs.after'), cell: (e) => json(e.after) },
  ], (await api.get('/api/audit?limit=200')).entries, 'audit-row'));
  el.append(button(tt('adminjs.refresh'), 'audit-refresh', reload), body);
  await reload();
}

async function main() {
  const booted = await bootPage(['admin', 'supervisor'], () => location.assign('/console/'));
  if (!booted) return;
  const me = booted.me.agent;
  reasons = await api.get('/api/agent_states/reasons').then((d) => d.reasons || [], () => []);
  const index = document.getElementById('adm-index');
  const main = document.getElementById('adm-main');
  const admin = me.role === 'admin';
  const sections = [
    ['adm-agents', tt('adminjs.agents'), (el) => agentsSection(el, me)],
    admin && ['adm-teams', tt('adminjs.teams'), teamsSection],
    ['adm-reassign', tt('adminjs.reassign'), reassignSection],
    admin && ['adm-queues', tt('adminjs.queues'), queuesSection],
    ['adm-canned', tt('adminjs.canned_replies'), cannedSection],
    admin && ['adm-codes', tt('adminjs.wrap_up_codes'), codesSection],
    ...contentSections(),
    admin && ['adm-audit', tt('adminjs.audit_trail'), auditSection],
  ].filter(Boolean);
  for (const [id, title, build] of sections) {
    const el = section(id, title, index);
    main.appendChild(el);
    build(el).catch((err) => el.appendChild(h('p', { class: 'adm-status' }, err.message || tt('adminjs.could_not_load'))));
  }
}

main();
