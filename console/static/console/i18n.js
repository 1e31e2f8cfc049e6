// The console's own words in Chinese and English (issue 16 item 9, ADR 0048). One dictionary per
// language (i18n/zh.js, i18n/en.js: plain JSON behind `export default`, so a test reads them too);
// t(key, vars) looks a key up in the chosen language, then English, then shows the key itself.
// A value is a string with {name} placeholders, or for counts an object of plural categories
// ({"one": "…", "other": "…"}) chosen by Intl.PluralRules: never "1 conversations".
// The language: the agent's saved preference (GET /api/me, set with the top bar's switcher), else
// the last one this browser used, else the browser's languages, else Chinese (this hotline's agents).
import EN from './i18n/en.js';
import ZH from './i18n/zh.js';

export const LANGUAGES = [{ code: 'zh', name: '中文' }, { code: 'en', name: 'English' }];
export const DEFAULT_LANGUAGE = 'zh';
const DICTS = { en: EN, zh: ZH };
const LOCALES = { en: 'en-GB', zh: 'zh-CN' };
const REMEMBERED = 'northgrid.console.language';

/** 'zh-CN', 'zh-Hant-TW', 'zh' → 'zh'; 'en-US' → 'en'; anything else → null. */
export function languageOf(tag) {
  const m = /^\s*([a-z]{2,3})\b/i.exec(String(tag || ''));
  const code = m && m[1].toLowerCase();
  return code && DICTS[code] ? code : null;
}

const inBrowser = typeof document !== 'undefined';  // node runs the pure parts in tests

function remembered() {
  try { return languageOf(localStorage.getItem(REMEMBERED)); } catch { return null; }
}

function fromBrowser() {
  if (typeof navigator === 'undefined') return null;
  const tags = (navigator.languages && navigator.languages.length) ? navigator.languages : [navigator.language];
  for (const tag of tags) {
    const code = languageOf(tag);
    if (code) return code;
  }
  return null;
}

let current = (inBrowser && remembered()) || fromBrowser() || DEFAULT_LANGUAGE;
if (inBrowser) document.documentElement.lang = LOCALES[current];

export function language() { return current; }
export function locale() { return LOCALES[current]; }

/** Choose the language (the agent's saved preference); returns whether it changed. */
export function setLanguage(code) {
  const next = languageOf(code);
  if (!next) return false;
  try { if (inBrowser) localStorage.setItem(REMEMBERED, next); } catch { /* private mode: this page only */ }
  if (next === current) return false;
  current = next;
  if (inBrowser) {
    document.documentElement.lang = LOCALES[current];
    if (inBrowser) translatePage(document);
  }
  return true;
}

function pick(entry, count) {
  if (entry === null || typeof entry !== 'object') return entry;
  const category = new Intl.PluralRules(LOCALES[current]).select(Number(count) || 0);
  return entry[category] ?? entry.other;
}

/** Whether `key` has a text (codes from the server: a known one is translated, another shown as is). */
export function hasText(key) {
  return DICTS[current][key] !== undefined || EN[key] !== undefined;
}

/** The text of `key` in the chosen language, {placeholders} filled from `vars` (numbers through Intl). */
export function t(key, vars = {}) {
  let entry = DICTS[current][key];
  if (entry === undefined) entry = EN[key];
  if (entry === undefined) return key;
  const text = String(pick(entry, vars.count) ?? key);
  return text.replace(/\{(\w+)\}/g, (whole, name) => {
    const value = vars[name];
    if (value === undefined || value === null) return whole;
    return typeof value === 'number' ? formatNumber(value) : String(value);
  });
}

export function formatNumber(n, options) {
  return new Intl.NumberFormat(LOCALES[current], options).format(n);
}

/** A date/time in the chosen language (`ts`: ISO string, ms or Date); '' for nothing. */
export function formatDate(ts, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  if (ts === null || ts === undefined || ts === '') return '';
  const d = ts instanceof Date ? ts : new Date(ts);
  return Number.isNaN(d.getTime()) ? '' : new Intl.DateTimeFormat(LOCALES[current], options).format(d);
}

/**
 * The static text of a page: `data-i18n="key"` sets an element's text; `data-i18n-attr="title:key;
 * placeholder:key;aria-label:key"` sets attributes. Called at load and on every language change.
 */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':').map((s) => s.trim());
      if (attr && key) el.setAttribute(attr, t(key));
    }
  }
  const title = document.querySelector('title[data-i18n]');
  if (title) document.title = t(title.dataset.i18n);
}

if (inBrowser) translatePage(document);
