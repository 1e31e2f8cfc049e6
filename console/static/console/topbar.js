// Top bar shared by the agent inbox and the supervisor page.
import { api, clearCsrf, setCsrf, LOGIN_URL } from './api.js';
import { setText, slug, toastError } from './render.js';

const STATUS_LABELS = { available: 'Available', away: 'Away', offline: 'Offline' };
const ROLE_LABELS = { agent: 'Agent', supervisor: 'Supervisor', trainer: 'Bot trainer', admin: 'Admin' };

/**
 * Start a page that only some roles may use: load the session, arm CSRF, show the top bar.
 * Returns { me, topbar }, or null when not logged in (api.js goes to the login page) or when the
 * role is not allowed (after calling onDenied).
 */
export async function bootPage(roles, onDenied) {
  let me;
  try {
    me = await api.get('/api/me');
  } catch (err) {
    if (err.status !== 401) toastError(err);
    return null;
  }
  if (me.csrf_token) setCsrf(me.csrf_token);
  document.body.classList.remove('is-booting');
  const topbar = initTopbar(me.agent || {});
  if (!roles.includes(me.agent && me.agent.role)) {
    onDenied();
    return null;
  }
  return { me, topbar };
}

export function isSupervisor(agent) {
  return !!agent && (agent.role === 'supervisor' || agent.role === 'admin');
}

export function initTopbar(agent) {
  const nameEl = document.getElementById('agent-name');
  const roleEl = document.getElementById('agent-role');
  const select = document.getElementById('agent-status');
  const dot = document.getElementById('agent-status-dot');
  const supLink = document.getElementById('nav-supervisor');
  const trainerLink = document.getElementById('nav-trainer');
  const logout = document.getElementById('logout');
  const conn = document.getElementById('conn-status');
  let current = agent;

  function ensureOption(status) {
    if (!status || Array.from(select.options).some((o) => o.value === status)) return;
    const opt = document.createElement('option');
    opt.value = status;
    opt.textContent = STATUS_LABELS[status] || status;
    select.appendChild(opt);
  }

  function showStatus(status) {
    ensureOption(status);
    if (status) select.value = status;
    if (dot) dot.className = `status-dot status-${slug(status)}`;
    select.className = `status-select status-${slug(status)}`;
  }

  function update(next) {
    if (!next) return;
    current = { ...current, ...next };
    setText(nameEl, current.display_name || current.username || '');
    if (nameEl) nameEl.title = current.username ? `Signed in as ${current.username}` : '';
    setText(roleEl, ROLE_LABELS[current.role] || current.role || '');
    if (roleEl) roleEl.className = `role-badge role-${slug(current.role)}`;
    showStatus(current.status);
    if (supLink) supLink.hidden = !isSupervisor(current);
    if (trainerLink) trainerLink.hidden = current.role !== 'trainer' && current.role !== 'admin';
  }

  select.addEventListener('change', async () => {
    const wanted = select.value;
    const previous = current.status;
    showStatus(wanted);
    select.disabled = true;
    try {
      const data = await api.post('/api/me/status', { status: wanted });
      update(data.agent || { status: wanted });
    } catch (err) {
      showStatus(previous);
      toastError(err);
    } finally {
      select.disabled = false;
    }
  });

  logout.addEventListener('click', async () => {
    logout.disabled = true;
    try {
      await api.post('/api/logout', {}, { redirectOn401: false });
    } catch { /* logging out anyway */ }
    clearCsrf();
    location.assign(LOGIN_URL);
  });

  function setConnection(state, info = {}) {
    if (!conn) return;
    if (state === 'open') {
      conn.hidden = true;
      return;
    }
    // The first connect is silent; the banner only appears once a connection was lost.
    if (state === 'connecting' && conn.hidden) return;
    conn.hidden = false;
    conn.className = `conn-status conn-${state}`;
    if (state === 'connecting') setText(conn, 'Reconnecting…');
    else {
      const secs = Math.max(1, Math.round((info.retryInMs || 0) / 1000));
      setText(conn, `Offline — reconnecting in ${secs}s`);
    }
  }

  update(agent);
  return { update, setConnection, get agent() { return current; } };
}
