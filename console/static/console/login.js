// Login page: POST /api/login, keep the CSRF token in sessionStorage, go to the console.
import { api, setCsrf, clearCsrf, takeNext, AGENT_URL, SUPERVISOR_URL, TRAINER_URL } from './api.js';

const form = document.getElementById('login-form');
const username = document.getElementById('login-username');
const password = document.getElementById('login-password');
const dest = document.getElementById('login-dest');
const submit = document.getElementById('login-submit');
const errorEl = document.getElementById('login-error');

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
    showError('Enter your username and password.');
    (user ? password : username).focus();
    return;
  }
  showError('');
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  form.setAttribute('aria-busy', 'true');
  try {
    clearCsrf();
    const data = await api.post('/api/login', { username: user, password: pass }, { redirectOn401: false, retryCsrf: false });
    if (!data.csrf_token) throw new Error('The server did not return a session token.');
    setCsrf(data.csrf_token);
    location.assign(destinationFor(data.agent));
    return;
  } catch (err) {
    showError((err && err.message) || 'Sign-in failed.');
    password.value = '';
    password.focus();
  }
  submit.disabled = false;
  submit.textContent = 'Sign in';
  form.removeAttribute('aria-busy');
});
