// Top bar shared by the agent inbox and the supervisor page.
import { api, clearCsrf, setCsrf, LOGIN_URL } from './api.js';
import { h, mmss, secondsSince, setText, slug, toastError } from './render.js';
import { renderTopbar, syncNav } from './pages.js';
import { LANGUAGES, hasText, language, setLanguage, t } from './i18n.js';

const STATUSES = new Set(['available', 'away', 'offline', 'paused']);
const ROLES = new Set(['agent', 'team_leader', 'supervisor', 'trainer', 'admin', 'department']);

export function statusName(status) {
  return STATUSES.has(status) ? t(`status.${status}`) : String(status || '');
}

export function roleName(role) {
  return ROLES.has(role) ? t(`role.${role}`) : String(role || '');
}

/** "lunch" -> "Lunch" (午餐 in Chinese); an unknown code "after_call_work" -> "After call work". */
export function reasonLabel(code) {
  if (code && hasText(`reason.${code}`)) return t(`reason.${code}`);
  const text = String(code || '').replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** How an agent's state reads: "Available", "Paused · Lunch". */
export function stateLabel(status, reason) {
  const base = statusName(status);
  return status === 'paused' && reason ? `${base} · ${reasonLabel(reason)}` : base;
}

/** The top bar's language switcher: saved on her account (POST /api/me/language), then the page again. */
export function languageSwitcher() {
  const select = h('select', { class: 'lang-select', 'data-testid': 'language-select', 'aria-label': t('topbar.language') },
    ...LANGUAGES.map((l) => h('option', { value: l.code, lang: l.code }, l.name)));
  select.value = language();
  select.addEventListener('change', async () => {
    select.disabled = true;
    try {
      await api.post('/api/me/language', { language: select.value });
      setLanguage(select.value);
      location.reload();  // every module's words again, in the new language
    } catch (err) {
      select.value = language();
      select.disabled = false;
      toastError(err);
    }
  });
  return h('label', { class: 'lang-control' }, select);
}

/** The status picker's value: the status, or "paused:<reason>" for a pause. */
function pickerValue(status, reason) {
  return status === 'paused' && reason ? `paused:${reason}` : status;
}

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

/** Who opens the supervisor page: supervisors and admins (everyone), team leaders (their team). */
export function watchesAgents(agent) {
  return isSupervisor(agent) || (!!agent && agent.role === 'team_leader');
}

export function initTopbar(agent) {
  // Her saved language wins over what this browser guessed; the page is built again in it.
  if (agent && agent.language && agent.language !== language() && setLanguage(agent.language)) location.reload();
  const header = document.querySelector('header.topbar[data-page]');
  if (header && !header.querySelector('.me')) renderTopbar(header);  // a page built from the registry
  const nameEl = document.getElementById('agent-name');
  const roleEl = document.getElementById('agent-role');
  const select = document.getElementById('agent-status');
  const dot = document.getElementById('agent-status-dot');
  const supLink = document.getElementById('nav-supervisor');
  const trainerLink = document.getElementById('nav-trainer');
  const logout = document.getElementById('logout');
  const conn = document.getElementById('conn-status');
  let current = agent;
  // Time in the current state, ticking beside the picker (from the agent's status_since).
  const since = h('span', { class: 'status-since', 'data-testid': 'status-since', title: t('topbar.time_in_state') });
  select.closest('.status-control')?.after(since);
  if (logout && !document.querySelector('[data-testid="language-select"]')) logout.before(languageSwitcher());

  function ensureOption(value, label) {
    if (!value || Array.from(select.options).some((o) => o.value === value)) return;
    const opt = document.createElement('option');
    opt.value = value;
    opt.textContent = label || statusName(value);
    select.appendChild(opt);
  }

  function showStatus(status, reason) {
    const value = pickerValue(status, reason);
    ensureOption(value, stateLabel(status, reason));
    if (value) select.value = value;
    if (dot) dot.className = `status-dot status-${slug(status)}`;
    select.className = `status-select status-${slug(status)}`;
  }

  function tick() {
    setText(since, current.status_since ? mmss(secondsSince(current.status_since)) : '');
  }

  // The configured pause reasons, productive ones first (GET /api/agent_states/reasons).
  api.get('/api/agent_states/reasons').then((data) => {
    const reasons = Array.isArray(data.reasons) ? data.reasons : [];
    reasons.sort((a, b) => String(a.kind).localeCompare(String(b.kind)) || String(a.code).localeCompare(b.code));
    for (const r of reasons) {
      ensureOption(`paused:${r.code}`, t('topbar.pause_option', { reason: reasonLabel(r.code), kind: t(`reason_kind.${r.kind}`) }));
    }
    showStatus(current.status, current.pause_reason);
  }).catch(() => { /* the picker keeps available/away/offline */ });
  setInterval(tick, 1000);

  function update(next) {
    if (!next) return;
    current = { ...current, ...next };
    setText(nameEl, current.display_name || current.username || '');
    if (nameEl) nameEl.title = current.username ? t('topbar.signed_in_as', { username: current.username }) : '';
    setText(roleEl, roleName(current.role));
    if (roleEl) roleEl.className = `role-badge role-${slug(current.role)}`;
    showStatus(current.status, current.pause_reason);
    tick();
    if (supLink) supLink.hidden = !watchesAgents(current);
    if (trainerLink) trainerLink.hidden = current.role !== 'trainer' && current.role !== 'admin';
    syncNav(document.querySelector('.topnav'), current.role);
  }

  select.addEventListener('change', async () => {
    const [wanted, reason] = select.value.split(':');
    const previous = current;
    showStatus(wanted, reason);
    select.disabled = true;
    try {
      const data = await api.post('/api/me/status', reason ? { status: wanted, reason } : { status: wanted });
      update(data.agent || { status: wanted, pause_reason: reason || null });
    } catch (err) {
      showStatus(previous.status, previous.pause_reason);
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
    if (state === 'connecting') setText(conn, t('topbar.reconnecting'));
    else {
      const secs = Math.max(1, Math.round((info.retryInMs || 0) / 1000));
      setText(conn, t('topbar.offline_retry', { count: secs }));
    }
  }

  update(agent);
  return { update, setConnection, get agent() { return current; } };
}
