// The conversation timeline in human words: each stored transition as a sentence ("Waiting in
// Billing", "Offered to you", "Transferred to Outages by Sara"), and the day separators between
// entries of different days. Pure: strings only; the caller renders them as text.

import { formatDate, t } from './i18n.js';

const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** opts: queueName(id), meId (the viewer: "you"), agentName(id) when known. */
export function eventSentence(ev, { queueName = (id) => id, meId = null, agentName = () => null } = {}) {
  const detail = ev.detail && typeof ev.detail === 'object' ? ev.detail : {};
  const who = (id) => (!id ? t('words.an_agent') : id === meId ? t('words.you') : agentName(id) || t('words.an_agent'));
  const queue = (id) => (id ? queueName(id) || id : t('words.the_queue'));
  const q = queue(ev.queue);
  let text;
  switch (ev.type) {
    case 'created': text = t('words.created'); break;
    case 'bot_started': text = t('words.bot_started'); break;
    case 'handed_over': text = t('words.handed_over', { queue: q }); break;
    case 'queued': text = t('words.queued', { queue: q }); break;
    case 'offered': text = t('words.offered', { who: who(ev.agent_id) }); break;
    case 'assigned': text = cap(t('words.assigned', { who: who(ev.agent_id) })); break;
    case 'declined': text = t('words.declined', { queue: q }); break;
    case 'offer_timed_out': text = t('words.offer_timed_out', { queue: q }); break;
    case 'offer_lost': text = t('words.offer_lost', { queue: q }); break;
    case 'transferred': text = t('words.transferred', { queue: queue(detail.to_queue || ev.queue) }); break;
    case 'wrapped_up': text = t('words.wrapped_up'); break;
    case 'resolved': text = t('words.resolved'); break;
    case 'abandoned': text = t('words.abandoned'); break;
    case 'wrap_up_coded': text = detail.code ? t('words.wrap_up_coded', { code: detail.code }) : t('words.wrap_up_code_set'); break;
    case 'call_ended': text = t('words.call_ended'); break;
    case 'called_out': text = cap(t('words.called_out', { who: who(ev.agent_id) })); break;
    case 'closed': text = t('words.closed'); break;
    case 'survey_answered':
      text = detail.score ? t('words.survey_scored', { score: detail.score }) : t('words.survey_answered'); break;
    case 'reopened': text = t('words.reopened', { queue: q }); break;
    case 'snoozed': text = t('words.snoozed', { time: formatDate(detail.until) }); break;
    case 'woken': text = t(`words.woken_${['due', 'customer', 'agent'].includes(detail.reason) ? detail.reason : 'due'}`); break;
    default: text = cap(String(ev.type || 'changed').replace(/_/g, ' '));
  }
  const actor = ev.actor_name || ev.actor;
  const byStaff = actor && typeof actor === 'string' && !['customer', 'system', 'bot', 'routing'].includes(actor)
    && actor !== ev.agent_id && ['transferred', 'resolved', 'reopened', 'wrapped_up', 'closed'].includes(ev.type);
  return byStaff ? t('words.by', { text, who: actor === meId ? t('words.you') : (agentName(actor) || actor) }) : text;
}

/** The local calendar day of a timestamp ("2026-12-04"), or '' when there is none. */
export function dayKey(ts) {
  const d = new Date(ts);
  if (!ts || Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

/** "Today", "Yesterday" or "3 Dec 2026". */
export function dayLabel(ts, now = new Date()) {
  const d = new Date(ts);
  if (!ts || Number.isNaN(d.getTime())) return '';
  const day = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const diff = Math.round((day(now) - day(d)) / 86400000);
  if (diff === 0) return t('words.today');
  if (diff === 1) return t('words.yesterday');
  return formatDate(d, { day: 'numeric', month: 'short', year: 'numeric' });
}
