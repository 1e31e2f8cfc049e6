// Administration (/console/admin). Admins: agents (create, skills, capacities, role, password,
// disable), queues, canned replies, wrap-up codes, teams and the audit trail. Supervisors: agents'
// statuses, reassigning a conversation, and the content sections (admin_content.js). Every change
// goes through the console API, which records it in the audit trail; nothing needs a restart.
import { api } from './api.js';
import { bootPage, stateLabel } from './topbar.js';
import { h } from './render.js';
import { button, enc, field, fill, form, list, section, select, send, table } from './admin_ui.js';
import { contentSections } from './admin_content.js';

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
  const picker = h('select', { 'aria-label': `Status of ${agent.username}`, 'data-testid': 'agent-status-set' },
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
    field('Name', { name: 'display_name', value: agent.display_name, maxlength: 100, required: true }),
    select('Role', 'role', ROLES.map((r) => [r, r]), agent.role),
    field('Skills (comma separated)', { name: 'skills', value: (agent.skills || []).join(', '), maxlength: 600 }),
    ...capacityFields(agent.capacity),
  ], `Save ${agent.username}`, (v) => send('PATCH', `/api/agents/${enc(agent.username)}`, {
    display_name: v.display_name, role: v.role, skills: list(v.skills), capacity: capacityOf(v) }), reload);
}

async function agentsSection(el, me) {
  const body = h('div');
  const isAdmin = me.role === 'admin';
  const editor = h('div', { 'data-testid': 'agent-editor' });
  const reload = () => fill(body, async () => {
    const { agents } = await api.get('/api/admin/agents');
    return table([
      { title: 'Username', cell: (a) => a.username },
      { title: 'Name', cell: (a) => a.display_name },
      { title: 'Role', cell: (a) => a.role },
      { title: 'Skills', cell: (a) => (a.skills || []).join(', ') },
      { title: 'Capacity', cell: (a) => capacityText(a.capacity) },
      { title: 'Status', cell: (a) => (a.disabled ? 'Disabled' : statusPicker(a, reload)) },
      { title: 'Actions', class: 'adm-actions', cell: (a) => (isAdmin ? h('span', null,
        button('Edit', 'agent-edit-open', async () => editor.replaceChildren(agentEditor(a, reload))),
        button('Reset password', 'agent-password', async () => {
          const password = window.prompt(`New password for ${a.username} (at least 8 characters)`);
          if (password) await send('POST', `/api/agents/${enc(a.username)}/password`, { new_password: password });
        }),
        button(a.disabled ? 'Enable' : 'Disable', 'agent-disable',
          () => send('POST', `/api/agents/${enc(a.username)}/${a.disabled ? 'enable' : 'disable'}`, {}), reload),
      ) : '') },
    ], agents, 'agent-row');
  });
  el.append(body, editor);
  if (isAdmin) {
    el.appendChild(h('h3', null, 'New agent'));
    el.appendChild(form('agent-create', [
      field('Username', { name: 'username', required: true, maxlength: 50, pattern: '[A-Za-z0-9_.\\-]+' }),
      field('Name', { name: 'display_name', required: true, maxlength: 100 }),
      select('Role', 'role', ROLES.map((r) => [r, r]), 'agent'),
      field('Password', { name: 'password', type: 'password', required: true, minlength: 8, autocomplete: 'new-password' }),
      field('Skills (comma separated)', { name: 'skills', maxlength: 600 }),
      ...capacityFields({ webchat: 3, sms: 3, email: 5, telegram: 3, voice: 1 }),
    ], 'Create agent', async (v, f) => {
      await send('POST', '/api/agents', { username: v.username, display_name: v.display_name, role: v.role,
        password: v.password, skills: list(v.skills), capacity: capacityOf(v) });
      f.reset();
    }, reload));
  }
  await reload();
}

async function reassignSection(el) {
  const { queues } = await api.get('/api/queues');
  el.appendChild(h('p', { class: 'adm-status' }, 'Move a conversation to another queue (from its agent or the bot).'));
  el.appendChild(form('reassign', [
    field('Conversation id', { name: 'conversation', required: true, maxlength: 100 }),
    select('Queue', 'queue', queues.map((q) => [q.id, q.name])),
  ], 'Reassign', (v) => send('POST', `/api/conversations/${enc(v.conversation.trim())}/transfer`, { queue: v.queue })));
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
    { title: 'Id', cell: (q) => q.id }, { title: 'Name', cell: (q) => q.name },
    { title: 'Skills', cell: (q) => q.skills.join(', ') }, { title: 'Priority', cell: (q) => String(q.priority ?? '') },
    { title: 'Business hours', cell: (q) => hoursText(q.hours) || 'Always open' },
  ], (await api.get('/api/queues')).queues, 'queue-row'));
  el.append(body, form('queue-save', [
    field('Id', { name: 'id', required: true, maxlength: 50, pattern: '[A-Za-z0-9_\\-]+' }),
    field('Name', { name: 'name', required: true, maxlength: 100 }),
    field('Skills (comma separated)', { name: 'skills', maxlength: 600 }),
    field('Priority', { name: 'priority', type: 'number', min: 0, max: 100, value: 0 }),
    field('Business hours (mon=08:00-20:00, sat=09:00-12:00; empty: always open)', { name: 'hours', maxlength: 200 }),
  ], 'Save queue', (v) => send('PUT', `/api/queues/${enc(v.id)}`, { name: v.name, skills: list(v.skills),
    priority: Number(v.priority || 0), hours: hoursOf(v.hours) }), reload));
  await reload();
}

async function cannedSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: 'Title', cell: (c) => c.title }, { title: 'Text', cell: (c) => c.text },
    { title: '', class: 'adm-actions', cell: (c) => button('Delete', 'canned-delete', () => send('DELETE', `/api/canned_replies/${enc(c.id)}`), reload) },
  ], (await api.get('/api/canned_replies')).canned_replies, 'canned-row'));
  el.append(body, form('canned-save', [
    field('Title', { name: 'title', required: true, maxlength: 100 }),
    field('Text ({customer_name}, {agent_name}, {order_number})', { name: 'text', required: true, maxlength: 2000 }, 'textarea'),
  ], 'Add canned reply', (v, f) => send('POST', '/api/canned_replies', v).then(() => f.reset()), reload));
  await reload();
}

async function codesSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: 'Code', cell: (c) => c.code }, { title: 'Label', cell: (c) => c.label },
  ], (await api.get('/api/wrap_up_codes')).codes, 'code-row'));
  el.append(body, form('code-save', [
    field('Code', { name: 'code', required: true, maxlength: 50, pattern: '[A-Za-z0-9_\\-]+' }),
    field('Label', { name: 'label', required: true, maxlength: 100 }),
  ], 'Save code', (v) => send('PUT', `/api/wrap_up_codes/${enc(v.code)}`, { label: v.label }), reload));
  await reload();
}

async function teamsSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: 'Id', cell: (t) => t.id }, { title: 'Name', cell: (t) => t.name },
    { title: 'Leader', cell: (t) => t.leader?.username || '' },
    { title: 'Members', cell: (t) => (t.members || []).map((m) => m.username).join(', ') },
  ], (await api.get('/api/teams')).teams, 'team-row'));
  el.append(body, form('team-save', [
    field('Id', { name: 'id', required: true, maxlength: 100, pattern: '[A-Za-z0-9_.\\-]+' }),
    field('Name', { name: 'name', required: true, maxlength: 100 }),
    field('Leader (username)', { name: 'leader', required: true, maxlength: 100 }),
    field('Members (usernames, comma separated)', { name: 'members', maxlength: 5000 }),
  ], 'Save team', (v) => send('POST', '/api/teams', { ...v, members: list(v.members) }), reload));
  await reload();
}

function json(value) {
  return h('pre', { class: 'adm-json' }, value ? JSON.stringify(value, null, 1) : '—');
}

async function auditSection(el) {
  const body = h('div');
  const reload = () => fill(body, async () => table([
    { title: 'When', cell: (e) => (e.at ? new Date(e.at).toLocaleString() : '') },
    { title: 'Who', cell: (e) => e.actor_name || e.actor || '' },
    { title: 'What', cell: (e) => e.action }, { title: 'Record', cell: (e) => e.target || '' },
    { title: 'Before', cell: (e) => json(e.before) }, { title: 'After', cell: (e) => json(e.after) },
  ], (await api.get('/api/audit?limit=200')).entries, 'audit-row'));
  el.append(button('Refresh', 'audit-refresh', reload), body);
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
    ['adm-agents', 'Agents', (el) => agentsSection(el, me)],
    admin && ['adm-teams', 'Teams', teamsSection],
    ['adm-reassign', 'Reassign', reassignSection],
    admin && ['adm-queues', 'Queues', queuesSection],
    ['adm-canned', 'Canned replies', cannedSection],
    admin && ['adm-codes', 'Wrap-up codes', codesSection],
    ...contentSections(),
    admin && ['adm-audit', 'Audit trail', auditSection],
  ].filter(Boolean);
  for (const [id, title, build] of sections) {
    const el = section(id, title, index);
    main.appendChild(el);
    build(el).catch((err) => el.appendChild(h('p', { class: 'adm-status' }, err.message || 'Could not load.')));
  }
}

main();
