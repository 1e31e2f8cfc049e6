// Call quality (/console/quality): supervisors' list of flagged calls, the moments to jump to in the
// recording, the transcript, a review form, transcript search and the rule sets per queue.
// Server data reaches the DOM through h()/textContent only.
import { api, request, convPath } from './api.js';
import { h, clear, setText, toastError } from './render.js';
import { formatDate, t as tt } from './i18n.js';
import { languageSwitcher } from './topbar.js';

const $ = (id) => document.getElementById(id);
let current = null;  // the open call

const seconds = (ms) => `${Math.floor(ms / 60000)}:${String(((ms % 60000) / 1000).toFixed(1)).padStart(4, '0')}`;

function jump(ms) {
  const player = $('qa-player');
  player.currentTime = ms / 1000;
  player.play().catch(() => { /* the user starts it */ });
}

function momentText(hit, m) {
  if (hit.negate) return tt('qajs.not_met', { from: seconds(m.at_ms), to: seconds(m.end_ms) });
  return `${m.phrase ? `"${m.phrase}" ` : ''}${m.speaker || ''} ${seconds(m.at_ms)}–${seconds(m.end_ms)}`;
}

function callItem(call) {
  const rules = call.hits.map((hit) => hit.rule).join(', ');
  return h('li', { 'data-testid': 'qa-call', dataset: { recording: call.recording }, onclick: () => open(call) },
    h('span', { class: 'qa-score', text: call.score }),
    h('span', { text: `${call.queue || '—'} · ${call.ended_at ? formatDate(call.ended_at) : ''} · ${rules}` }),
    call.review ? h('span', { class: 'qa-reviewed', text: ` · ${tt('qajs.reviewed', { score: call.review.score })}` }) : null);
}

async function loadList(path) {
  const data = await api.get(path);
  const list = $('qa-calls');
  clear(list);
  for (const call of data.calls) list.appendChild(callItem(call));
  if (!data.calls.length) list.appendChild(h('li', { text: tt('qajs.no_calls') }));
}

function listPath() { return `/api/quality/flagged${$('qa-unreviewed').checked ? '?unreviewed=1' : ''}`; }

async function open(call) {
  current = call;
  for (const li of $('qa-calls').children) li.classList.toggle('is-open', li.dataset.recording === call.recording);
  $('qa-detail').hidden = false;
  setText($('qa-title'), tt('qajs.title', { score: call.score, queue: call.queue || '' }));
  playLeg('mix');
  const legs = $('qa-legs');
  clear(legs);
  for (const leg of ['mix', 'agent', 'caller']) legs.appendChild(h('button', { type: 'button', class: 'btn', text: leg, onclick: () => playLeg(leg) }));
  const hits = $('qa-hits');
  clear(hits);
  for (const hit of call.hits) {
    hits.appendChild(h('li', { 'data-testid': 'qa-hit' }, h('strong', { text: `${hit.rule} (-${hit.points})` }), ' ',
      hit.moments.map((m) => h('button', { type: 'button', class: 'btn', 'data-testid': 'qa-moment', text: momentText(hit, m), onclick: () => jump(m.at_ms) }))));
  }
  const confirm = $('qa-confirm');
  for (const old of Array.from(confirm.querySelectorAll('label'))) old.remove();
  for (const hit of call.hits) {
    confirm.appendChild(h('label', {}, h('input', { type: 'checkbox', value: hit.rule, checked: Boolean(call.review && call.review.confirmed.includes(hit.rule)) }), ` ${hit.rule}`));
  }
  $('qa-score').value = call.review ? call.review.score : call.score;
  $('qa-note').value = call.review ? call.review.note : '';
  await showTranscript(call);
}

function playLeg(leg) { $('qa-player').src = current.player[leg]; }

async function showTranscript(call) {
  const list = $('qa-transcript');
  clear(list);
  const data = await api.get(convPath(call.conversation_id, 'quality'));
  const mine = data.calls.find((c) => c.recording === call.recording);
  const words = [];
  for (const [speaker, said] of Object.entries((mine && mine.transcript) || {})) for (const w of said) words.push({ speaker, ...w });
  words.sort((a, b) => a.start_ms - b.start_ms);
  for (const w of words) {
    list.appendChild(h('li', { class: `qa-speaker-${w.speaker === 'agent' ? 'agent' : 'caller'}` },
      h('button', { type: 'button', class: 'btn btn-ghost', text: seconds(w.start_ms), onclick: () => jump(w.start_ms) }),
      ` ${w.speaker}: ${w.text}`));
  }
}

async function saveReview(event) {
  event.preventDefault();
  const confirmed = Array.from($('qa-confirm').querySelectorAll('input:checked')).map((i) => i.value);
  const body = { score: Number($('qa-score').value), note: $('qa-note').value, confirmed };
  try {
    const data = await api.post(`/api/quality/calls/${encodeURIComponent(current.recording)}/review`, body);
    current = data.call;
    setText($('qa-review-status'), tt('qajs.saved'));
    await loadList(listPath());
  } catch (err) { setText($('qa-review-status'), err.message); }
}

async function loadRules() {
  const queue = $('qa-rules-queue').value.trim();
  const data = await api.get('/api/quality/rules');
  const set = data.rule_sets.find((s) => s.queue === queue);
  $('qa-rules-json').value = JSON.stringify(set ? set.rules : [], null, 2);
}

async function saveRules(event) {
  event.preventDefault();
  const queue = $('qa-rules-queue').value.trim();
  let rules;
  try { rules = JSON.parse($('qa-rules-json').value); } catch { setText($('qa-rules-status'), tt('qajs.not_valid_json')); return; }
  try {
    await request('PUT', `/api/quality/rules/${encodeURIComponent(queue)}`, { rules });
    setText($('qa-rules-status'), tt('qajs.saved'));
  } catch (err) { setText($('qa-rules-status'), err.message); }
}

async function start() {
  $('qa-unreviewed').addEventListener('change', () => loadList(listPath()).catch(toastError));
  $('qa-search').addEventListener('submit', (event) => {
    event.preventDefault();
    const q = $('qa-q').value.trim();
    loadList(q ? `/api/quality/search?q=${encodeURIComponent(q)}` : listPath()).catch(toastError);
  });
  $('qa-review').addEventListener('submit', saveReview);
  $('qa-rules-form').addEventListener('submit', saveRules);
  $('qa-rules-queue').addEventListener('change', () => loadRules().catch(toastError));
  try {
    await loadList(listPath());
    await loadRules();
    const status = await api.get('/api/quality/status');
    setText($('qa-backlog'), tt('qajs.backlog', { count: status.jobs.pending + status.jobs.running, failed: status.jobs.failed }));
  } catch (err) { toastError(err); }
}

start();

// This page's bar has no account menu: the language switcher alone, at its end (ADR 0048).
document.querySelector('header.topbar')?.append(languageSwitcher());
