// Login page: POST /api/login, keep the CSRF token in sessionStorage, go to the console.
import { api, setCsrf, clearCsrf, takeNext, AGENT_URL, SUPERVISOR_URL, TRAINER_URL } from './api.js';
import { LANGUAGES, language, setLanguage, t } from './i18n.js';

const LOGIN_REFUSALS = {
  bad_credentials: 'login.bad_credentials', account_disabled: 'login.account_disabled',
  too_many_attempts: 'login.too_many_attempts', busy: 'login.busy',
};

const form = document.getElementById('login-form');
const username = document.getElementById('login-username');
const password = document.getElementById('login-password');
const dest = document.getElementById('login-dest');
const submit = document.getElementById('login-submit');
const errorEl = document.getElementById('login-error');

// Before signing in: the browser's (or the last) language; the account's choice wins after.
const languages = document.getElementById('login-language');
for (const l of LANGUAGES) {
  const option = document.createElement('option');
  option.value = l.code;
  option.lang = l.code;
  option.textContent = l.name;
  languages.appendChild(option);
}
languages.value = language();
languages.addEventListener('change', () => setLanguage(languages.value));

const next = takeNext();
if (next === 'supervisor' || next === 'trainer') dest.value = next;

function showError(message) {
  errorEl.textContent = message;
  errorEl.hidden = !message;
}

function destinationFor(agent) {
  const role = agent && agent.role;
  if (role === 'department') return '/console/work_orders';
  if (role === 'trainer' || (role === 'admin' && dest.value === 'trainer')) return TRAINER_URL;
  const mayChoose = role === 'supervisor' || role === 'admin' || role === 'team_leader';
  return mayChoose && dest.value === 'supervisor' ? SUPERVISOR_URL : AGENT_URL;
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const user = username.value.trim();
  const pass = password.value;
  if (!user || !pass) {
    showError(t('login.missing'));
    (user ? password : username).focus();
    return;
  }
  showError('');
  submit.disabled = true;
  submit.textContent = t('login.signing_in');
  form.setAttribute('aria-busy', 'true');
  try {
    clearCsrf();
    const data = await api.post('/api/login', { username: user, password: pass }, { redirectOn401: false, retryCsrf: false });
    if (!data.csrf_token) throw new Error(t('login.no_token'));
    setCsrf(data.csrf_token);
    if (data.agent && data.agent.language) setLanguage(data.agent.language);
    location.assign(destinationFor(data.agent));
    return;
  } catch (err) {
    // The sign-in's own refusals in the page's language (ADR 0048); anything else as the hub said it.
    const known = err && LOGIN_REFUSALS[err.code];
    showError(known ? t(known) : (err && err.message) || t('login.failed'));
    password.value = '';
    password.focus();
  }
  submit.disabled = false;
  submit.textContent = t('login.submit');
  form.removeAttribute('aria-busy');
});
