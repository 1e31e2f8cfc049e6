// Bot trainer page (/console/trainer): review the bot's turns, curate intents and examples,
// train, compare with the model serving now, activate. Data reaches the DOM only as text.
import { api, request } from './api.js';
import { bootPage } from './topbar.js';
import { h, reconcile, setText, clear, clockTime, slug, toast, toastError } from './render.js';
import { formatDate, t as tt } from './i18n.js';

const POLL_MS = 1500;
const $ = (id) => document.getElementById(id);
const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(1)}%` : 'n/a');

let intents = [];
let models = [];
let pollTimer = null;
let evaluated = null; // id of the model whose evaluation is shown

// ---------------------------------------------------------------- turns

function intentSelect(selected, testid) {
  const select = h('select', { 'data-testid': testid, 'aria-label': tt('trnjs.right_intent') });
  const names = intents.map((i) => i.name);
  if (selected && !names.includes(selected)) names.unshift(selected);
  for (const name of names) select.appendChild(h('option', { value: name, text: name }));
  if (selected) select.value = selected;
  return select;
}

function renderTurns(turns) {
  reconcile($('turns-body'), turns, (t) => t.id, (t) => {
    const tr = h('tr', { 'data-testid': 'turn-row' });
    tr._cells = {
      at: h('td', { class: 'cell-time' }),
      text: h('td', { class: 'turn-text', 'data-testid': 'turn-text' }),
      read: h('td', { 'data-testid': 'turn-intent' }),
      outcome: h('td', { 'data-testid': 'turn-outcome' }),
      wrap: h('td', { 'data-testid': 'turn-wrap-up' }),
      label: h('td', { class: 'turn-label-cell' }),
    };
    tr.append(...Object.values(tr._cells));
    return tr;
  }, (tr, t) => {
    const c = tr._cells;
    tr.dataset.turnId = t.id;
    setText(c.at, clockTime(t.at));
    setText(c.text, t.text);
    setText(c.read, t.intent ? `${t.intent} (${pct(t.confidence)})` : tt('trnjs.no_intent'));
    setText(c.outcome, t.handed_over ? tt('trnjs.handed_over', { reason: t.reason || '' }) : tt('trnjs.bot_answered'));
    c.outcome.className = t.handed_over ? 'pill-handover' : 'pill-kept';
    setText(c.wrap, t.wrap_up_code || '');
    const sig = JSON.stringify([t.reviewed_intent, intents.length]);
    if (c.label.dataset.sig === sig) return;
    c.label.dataset.sig = sig;
    if (t.reviewed_intent) {
      c.label.replaceChildren(h('span', { class: 'turn-done', 'data-testid': 'turn-status',
        text: tt('trnjs.labelled', { intent: t.reviewed_intent, by: t.reviewed_by || '' }) }));
      return;
    }
    const select = intentSelect(t.intent && t.intent !== 'nlu_fallback' ? t.intent : null, 'turn-select');
    const save = h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'turn-save', text: tt('trnjs.save') });
    const sync = () => setText(save, select.value === t.intent ? tt('trnjs.confirm') : tt('trnjs.relabel'));
    select.addEventListener('change', sync);
    sync();
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        await api.post(`/api/trainer/turns/${encodeURIComponent(t.id)}/label`, { intent: select.value });
        toast(tt('trnjs.saved', { intent: select.value }), { kind: 'info', timeout: 3000 });
        await Promise.all([loadTurns(), loadIntents()]);
      } catch (err) {
        toastError(err);
        save.disabled = false;
      }
    });
    c.label.replaceChildren(h('div', { class: 'turn-label' }, select, save));
  });
  $('turns-empty').hidden = turns.length > 0;
}

async function loadTurns() {
  const all = $('turns-all').checked ? '?all=1' : '';
  const data = await api.get(`/api/trainer/turns${all}`);
  const turns = Array.isArray(data.turns) ? data.turns : [];
  renderTurns(turns);
  setText($('tile-turns'), turns.filter((t) => !t.reviewed_intent).length);
}

// ---------------------------------------------------------------- intents

function renderIntents(data) {
  intents = Array.isArray(data.intents) ? data.intents : [];
  const sorted = [...intents].sort((a, b) => (b.handovers - a.handovers) || a.name.localeCompare(b.name));
  reconcile($('intents-body'), sorted, (i) => i.name, () => {
    const tr = h('tr', { 'data-testid': 'intent-row' });
    tr._cells = [h('td', { class: 'cell-name', 'data-testid': 'intent-name-cell' }), h('td', { class: 'num' }),
      h('td', { class: 'num', 'data-testid': 'intent-examples' }), h('td')];
    tr.append(...tr._cells);
    return tr;
  }, (tr, i) => {
    const [name, handovers, examples, answered] = tr._cells;
    setText(name, i.label || i.name);  // the label as the trainer wrote it (ADR 0044)
    setText(handovers, i.handovers);
    clear(examples);
    examples.append(h('button', { type: 'button', class: 'link-button', 'data-testid': 'intent-examples-open',
      title: tt('trnjs.show_examples'), onclick: () => showExamples(i).catch(toastError) }, String(i.examples)));
    setText(answered, i.has_response ? 'yes' : tt('trnjs.no_handed_to_an_agent'));
  });
  setText($('tile-intents'), intents.length);
  setText($('tile-handovers'), `${data.handed_over ?? 0} of ${data.with_bot ?? 0}`);
  const select = $('example-intent');
  const current = select.value;
  clear(select);
  for (const i of intents) select.appendChild(h('option', { value: i.name, text: i.label || i.name }));
  if (current) select.value = current;
}

/** An intent's curated examples, each with the button that removes it from what is trained on. */
async function showExamples(intent) {
  const { examples } = await api.get(`/api/trainer/intents/${encodeURIComponent(intent.name)}/examples?limit=2000`);
  setText($('examples-title'), tt('trnjs.examples_of', { intent: intent.label || intent.name, count: examples.length }));
  const list = $('examples-list');
  clear(list);
  for (const e of examples) {
    list.appendChild(h('li', { 'data-testid': 'example-item' }, h('span', { class: 'example-text' }, e.text),
      h('span', { class: 'example-meta' }, ` · ${e.language} · ${e.source} · ${e.by || ''}`),
      h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'example-remove', onclick: async () => {
        try {
          await request('DELETE', '/api/trainer/examples', { text: e.text });
          await loadIntents();
          await showExamples(intents.find((i) => i.name === intent.name) || intent);
        } catch (err) { toastError(err); }
      } }, tt('trnjs.remove'))));
  }
  $('examples-panel').hidden = false;
}

async function loadIntents() {
  renderIntents(await api.get('/api/trainer/intents'));
}

// ---------------------------------------------------------------- models

function renderModels() {
  reconcile($('models-body'), models, (m) => m.id, () => {
    const tr = h('tr', { 'data-testid': 'model-row' });
    tr._cells = {
      id: h('td', { class: 'cell-name' }), status: h('td', { 'data-testid': 'model-status' }),
      examples: h('td', { class: 'num' }), accuracy: h('td', { class: 'num', 'data-testid': 'model-accuracy' }),
      f1: h('td', { class: 'num' }), handover: h('td', { class: 'num' }), time: h('td', { class: 'num' }),
      actions: h('td'),
    };
    tr.append(...Object.values(tr._cells));
    return tr;
  }, (tr, m) => {
    const c = tr._cells;
    const metrics = m.metrics || {};
    setText(c.id, m.id);
    setText(c.status, m.status === 'training' ? tt('trnjs.training', { progress: pct(m.progress) }) : m.status);
    c.status.className = `status-${slug(m.status)}`;
    c.status.title = m.error || m.phase || '';
    setText(c.examples, m.examples);
    setText(c.accuracy, pct(metrics.accuracy));
    setText(c.f1, pct(metrics.macro_f1));
    setText(c.handover, pct(metrics.handover_rate));
    setText(c.time, typeof m.duration_s === 'number' ? `${Math.round(m.duration_s)} s` : '');
    const sig = m.status;
    if (c.actions.dataset.sig === sig) return;
    c.actions.dataset.sig = sig;
    const buttons = [];
    if (m.status === 'ready' || m.status === 'active') {
      buttons.push(h('button', { type: 'button', class: 'btn btn-sm', 'data-testid': 'model-evaluate',
        text: tt('trnjs.evaluate'), onclick: () => evaluate(m.id) }));
    }
    if (m.status === 'ready') {
      buttons.push(h('button', { type: 'button', class: 'btn btn-sm btn-success', 'data-testid': 'model-activate',
        text: tt('trnjs.activate'), onclick: (ev) => activate(m.id, ev.currentTarget) }));
    }
    c.actions.replaceChildren(h('div', { class: 'model-actions' }, buttons));
  });
  $('models-empty').hidden = models.length > 0;
  const active = models.find((m) => m.status === 'active');
  setText($('tile-model'), active ? active.id : tt('trnjs.shipped_model'));
  const training = models.find((m) => m.status === 'training');
  $('train-progress').hidden = !training;
  $('train').disabled = !!training;
  if (training) {
    $('train-bar').value = Number(training.progress) || 0;
    setText($('train-phase'), `${pct(training.progress)} · ${training.phase || ''}`);
  }
  return !!training;
}

async function loadModels() {
  const data = await api.get('/api/trainer/models');
  models = Array.isArray(data.models) ? data.models : [];
  const training = renderModels();
  clearTimeout(pollTimer);
  if (training) pollTimer = setTimeout(() => loadModels().catch(toastError), POLL_MS);
}

async function train() {
  $('train').disabled = true;
  try {
    await api.post('/api/trainer/train', {});
    await loadModels();
  } catch (err) {
    toastError(err);
    $('train').disabled = false;
  }
}

async function activate(id, button) {
  if (button) button.disabled = true;
  try {
    await api.post(`/api/trainer/models/${encodeURIComponent(id)}/activate`, {});
    toast(tt('trnjs.active', { id }), { kind: 'info', timeout: 4000 });
  } catch (err) {
    toastError(err);
  }
  await loadModels();
}

function compareRow(label, mine, serving, higherIsBetter = true) {
  const cls = typeof mine === 'number' && typeof serving === 'number' && mine !== serving
    ? ((mine > serving) === higherIsBetter ? 'num better' : 'num worse') : 'num';
  return h('tr', {}, h('td', { class: 'cell-name', text: label }), h('td', { class: cls, text: pct(mine) }),
    h('td', { class: 'num', text: pct(serving) }));
}

// One row per intent or label, the weakest (lowest F1) first.
function perIntentRows(table, testid) {
  return Object.entries(table || {}).sort((a, b) => a[1].f1 - b[1].f1).map(([name, row]) => h('tr', {
    'data-testid': testid }, h('td', { text: name }), h('td', { class: 'num', text: row.support }),
  h('td', { class: 'num', text: pct(row.precision) }), h('td', { class: 'num', text: pct(row.recall) }),
  h('td', { class: 'num', text: pct(row.f1) })));
}

function renderEvaluation(id, metrics, serving) {
  evaluated = id;
  $('evaluation').hidden = false;
  setText($('evaluation-title'), tt('trnjs.held_out', { id, count: metrics.turns }));
  setText($('compare-serving'), serving ? tt('trnjs.serving_model', { model: serving.model }) : tt('trnjs.serving_now'));
  const s = serving || {};
  $('compare-body').replaceChildren(
    compareRow(tt('trnjs.accuracy_handover_counted_right_for'), metrics.accuracy, s.accuracy),
    compareRow(tt('trnjs.intent_accuracy_in_domain_rows'), metrics.intent_accuracy, s.intent_accuracy),
    compareRow(tt('trnjs.intent_macro_f1'), metrics.intent_macro_f1, s.intent_macro_f1),
    compareRow(tt('trnjs.macro_f1'), metrics.macro_f1, s.macro_f1),
    compareRow(tt('trnjs.out_of_scope_recall'), metrics.out_of_scope?.out_of_scope_recall,
      s.out_of_scope?.out_of_scope_recall),
    compareRow(tt('trnjs.handover_rate'), metrics.handover_rate, s.handover_rate, false),
    compareRow(tt('trnjs.accuracy_on_the_turns_the_bot_keeps'), metrics.kept_accuracy, s.kept_accuracy),
  );
  $('per-intent-body').replaceChildren(...perIntentRows(metrics.per_intent, 'per-intent-row'));
  $('intent-per-intent-body').replaceChildren(...perIntentRows(metrics.intent_per_intent, 'intent-per-intent-row'));
  $('confusions-body').replaceChildren(...(metrics.confusions || []).map((c) => h('tr', {},
    h('td', { text: c.expected }), h('td', { text: c.predicted }), h('td', { class: 'num', text: c.count }))));
}

async function evaluate(id) {
  $('evaluation').hidden = false;
  setText($('evaluation-title'), tt('trnjs.evaluating', { id }));
  try {
    const data = await api.post(`/api/trainer/models/${encodeURIComponent(id)}/evaluate`, {});
    renderEvaluation(id, data.metrics || {}, data.serving);
    await loadModels();
  } catch (err) {
    toastError(err);
    if (evaluated !== id) $('evaluation').hidden = true;
  }
}

// ---------------------------------------------------------------- forms

function wireForms() {
  $('intent-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = $('intent-name').value.trim();
    if (!name) return;
    try {
      const made = await api.post('/api/trainer/intents', { name });
      $('intent-name').value = '';
      await loadIntents();
      $('example-intent').value = made.intent.name;
      $('example-text').focus();
    } catch (err) { toastError(err); }
  });
  $('example-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const text = $('example-text').value.trim();
    const intent = $('example-intent').value;
    if (!text || !intent) return;
    try {
      await api.post('/api/trainer/examples', { text, intent });
      $('example-text').value = '';
      toast(tt('trnjs.added', { intent }), { kind: 'info', timeout: 3000 });
      await loadIntents();
    } catch (err) { toastError(err); }
  });
  $('import-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const file = $('import-file').files[0];
    if (!file) return;
    setText($('import-status'), tt('trnjs.importing'));
    try {
      const skip = $('import-skip-bad').checked ? '?skip_bad=1' : '';
      const { report } = await request('POST', `/api/trainer/import${skip}`, await file.text(), { contentType: 'text/csv' });
      const lines = [tt('trnjs.imported', { count: report.imported, rows: report.rows, skipped: report.skipped })];
      lines.push(...report.conflicts, ...report.errors);
      setText($('import-status'), lines.join('\n'));
      $('import-form').reset();
      await loadIntents();
    } catch (err) { setText($('import-status'), err.message); }
  });
  $('turns-all').addEventListener('change', () => loadTurns().catch(toastError));
  $('train').addEventListener('click', train);
}

function showDenied() {
  $('board-body').hidden = true;
  $('board-denied').hidden = false;
}

async function main() {
  if (!(await bootPage(['trainer', 'admin'], showDenied))) return;
  wireForms();
  try {
    await loadIntents();
    await Promise.all([loadTurns(), loadModels()]);
    setText($('board-updated'), tt('trnjs.loaded', { time: formatDate(new Date(), { timeStyle: 'medium' }) }));
  } catch (err) {
    if (err.status === 403) showDenied();
    else toastError(err);
  }
}

main();
