// fetch wrapper for the console HTTP API (docs/api.md, "Console HTTP").
// The session is an HttpOnly cookie; the CSRF token lives in sessionStorage.
import { t } from './i18n.js';

export const LOGIN_URL = '/console/login';
export const AGENT_URL = '/console/';
export const SUPERVISOR_URL = '/console/supervisor';
export const TRAINER_URL = '/console/trainer';

const CSRF_KEY = 'hub.csrf';
const NEXT_KEY = 'hub.next';

export function getCsrf() {
  try { return sessionStorage.getItem(CSRF_KEY) || ''; } catch { return ''; }
}

export function setCsrf(token) {
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, String(token));
  } catch { /* storage disabled: requests will fail with 403 csrf and refresh */ }
}

export function clearCsrf() {
  try { sessionStorage.removeItem(CSRF_KEY); } catch { /* ignore */ }
}

/** Which page to open after the next login ("supervisor" | "trainer" | null); not sensitive. */
export function rememberNext(page) {
  try { sessionStorage.setItem(NEXT_KEY, page); } catch { /* ignore */ }
}

export function takeNext() {
  try {
    const v = sessionStorage.getItem(NEXT_KEY);
    sessionStorage.removeItem(NEXT_KEY);
    return v;
  } catch { return null; }
}

// The id of this tab's console socket (its hello frame): sent with every change, so that the frame
// of a reply this tab posted skips it (it has the reply in the answer).
let consoleSocket = '';

export function setConsoleSocket(id) {
  consoleSocket = typeof id === 'string' ? id : '';
}

export function getConsoleSocket() {
  return consoleSocket;
}

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

let redirecting = false;

export function goToLogin() {
  if (redirecting) return;
  redirecting = true;
  clearCsrf();
  if (location.pathname.startsWith(SUPERVISOR_URL)) rememberNext('supervisor');
  if (location.pathname.startsWith(TRAINER_URL)) rememberNext('trainer');
  location.assign(LOGIN_URL);
}

function defaultMessage(status) {
  if ([401, 403, 404, 409, 429].includes(status)) return t(`error.http_${status}`);
  if (status >= 500) return t('error.http_5xx', { status });
  return t('error.http_other', { status });
}

/**
 * request(method, path, body?, options?) → parsed JSON body ({} when empty).
 * Throws ApiError(status, code, message) with the server's message on failure.
 * options.redirectOn401 (default true): go to the login page on 401.
 */
export async function request(method, path, body, options = {}) {
  // contentType: the body is sent as it is (a string: a CSV file's text), not as JSON.
  const { redirectOn401 = true, retryCsrf = true, contentType = null } = options;
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  const unsafe = method !== 'GET' && method !== 'HEAD';
  if (unsafe) {
    headers['Content-Type'] = contentType || 'application/json';
    init.body = contentType ? body : JSON.stringify(body === undefined ? {} : body);
    const token = getCsrf();
    if (token) headers['X-CSRF-Token'] = token;
    if (consoleSocket) headers['X-Console-Socket'] = consoleSocket;
  }

  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }

  let data = null;
  if (res.status !== 204) {
    const text = await res.text().catch(() => '');
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
  }
  if (res.ok) return data && typeof data === 'object' ? data : {};

  const err = (data && typeof data === 'object' && data.error) || {};
  const code = typeof err.code === 'string' ? err.code : `http_${res.status}`;
  const message = typeof err.message === 'string' && err.message ? err.message : defaultMessage(res.status);

  if (res.status === 401 && redirectOn401) {
    goToLogin();
    throw new ApiError(401, code, message, data);
  }
  // A lost / stale CSRF token (new tab, storage cleared): refresh it once and retry.
  if (res.status === 403 && code === 'csrf' && unsafe && retryCsrf) {
    let refreshed = false;
    try {
      const me = await request('GET', '/api/me', undefined, { redirectOn401 });
      if (me && me.csrf_token) { setCsrf(me.csrf_token); refreshed = true; }
    } catch { /* fall through to the original error */ }
    if (refreshed) return request(method, path, body, { ...options, retryCsrf: false });
  }
  throw new ApiError(res.status, code, message, data);
}

export const api = {
  get: (path, options) => request('GET', path, undefined, options),
  post: (path, body, options) => request('POST', path, body, options),
};

/** "/api/conversations/{id}/{action}" with the id safely encoded. */
export function convPath(id, action) {
  const base = `/api/conversations/${encodeURIComponent(id)}`;
  return action ? `${base}/${action}` : base;
}
