// Knowledge articles suggested beside a handed-over conversation, from the handover card's intent.
// Articles are shown as plain text (the server's `text`), through textContent like all server data;
// "Insert" puts the text into the composer for the agent to edit and send.
import { api } from './api.js';
import { h } from './render.js';
import { t as tr } from './i18n.js';

const CACHE_MS = 60_000; // the timeline re-renders often: one request per intent and minute
const cache = new Map(); // intent -> { at, promise }

function suggestions(intent) {
  const hit = cache.get(intent);
  if (hit && Date.now() - hit.at < CACHE_MS) return hit.promise;
  const promise = api.get(`/api/knowledge/suggestions?intent=${encodeURIComponent(intent)}`);
  cache.set(intent, { at: Date.now(), promise });
  promise.catch(() => cache.delete(intent));
  return promise;
}

/** A section that fills itself with the articles linked to `intent`; hidden when there are none. */
export function suggestionsNode(intent, onInsert) {
  const section = h('section', { class: 'kb-suggestions', 'data-testid': 'kb-suggestions', hidden: true });
  if (!intent) return section;
  suggestions(intent).then((data) => {
    const articles = Array.isArray(data.articles) ? data.articles : [];
    if (!articles.length) return;
    section.append(h('h4', { text: tr('knowledge.suggested_articles') }));
    for (const article of articles) {
      section.append(h('details', { class: 'kb-article', 'data-testid': 'kb-article' },
        h('summary', { 'data-testid': 'kb-article-title', text: article.title || '' }),
        h('p', { class: 'kb-text', 'data-testid': 'kb-article-text', text: article.text || '' }),
        h('button', { type: 'button', 'data-testid': 'kb-insert', text: tr('knowledge.insert'),
          onclick: () => onInsert(article.text || '') })));
    }
    section.hidden = false;
  }).catch(() => { /* suggestions are a help, never an error for the agent */ });
  return section;
}

// fillCanned lives in canned.js (the composer's "/" menu and the canned select share it).
export { fillCanned } from './canned.js';
