// The conversation timeline in human words: each stored transition as a sentence ("Waiting in
// Billing", "Offered to you", "Transferred to Outages by Sara"), and the day separators between
// entries of different days. Pure: strings only; the caller renders them as text.

const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : s);

/** opts: queueName(id), meId (the viewer: "you"), agentName(id) when known. */
export function eventSentence(ev, { queueName = (id) => id, meId = null, agentName = () => null } = {}) {
  const detail = ev.detail && typeof ev.detail === 'object' ? ev.detail : {};
  const who = (id) => (!id ? 'an agent' : id === meId ? 'you' : agentName(id) || 'an agent');
  const queue = (id) => (id ? queueName(id) || id : 'the queue');
  const q = queue(ev.queue);
  let text;
  switch (ev.type) {
    case 'created': text = 'The customer got in touch'; break;
    case 'bot_started': text = 'The bot answered'; break;
    case 'handed_over': text = `The bot handed over: waiting in ${q}`; break;
    case 'queued': text = `Waiting in ${q}`; break;
    case 'offered': text = `Offered to ${who(ev.agent_id)}`; break;
    case 'assigned': text = `${cap(who(ev.agent_id))} took it`; break;
    case 'declined': text = `Declined: back in ${q}`; break;
    case 'offer_timed_out': text = `Nobody answered the offer in time: back in ${q}`; break;
    case 'offer_lost': text = `The offer was lost: back in ${q}`; break;
    case 'transferred': text = `Transferred to ${queue(detail.to_queue || ev.queue)}`; break;
    case 'wrapped_up': text = 'After-work (wrap-up) started'; break;
    case 'resolved': text = 'Resolved'; break;
    case 'abandoned': text = 'The customer left while waiting'; break;
    case 'wrap_up_coded': text = detail.code ? `Wrap-up code: ${detail.code}` : 'Wrap-up code set'; break;
    case 'call_ended': text = 'The call ended'; break;
    case 'called_out': text = `${cap(who(ev.agent_id))} called the customer`; break;
    case 'closed': text = 'Closed'; break;
    case 'survey_answered':
      text = detail.score ? `The customer rated it ${detail.score} out of 5` : 'The customer answered the survey'; break;
    case 'reopened': text = `Reopened: waiting in ${q}`; break;
    default: text = cap(String(ev.type || 'changed').replace(/_/g, ' '));
  }
  const actor = ev.actor_name || ev.actor;
  const byStaff = actor && typeof actor === 'string' && !['customer', 'system', 'bot', 'routing'].includes(actor)
    && actor !== ev.agent_id && ['transferred', 'resolved', 'reopened', 'wrapped_up', 'closed'].includes(ev.type);
  return byStaff ? `${text} by ${actor === meId ? 'you' : (agentName(actor) || actor)}` : text;
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
  if (diff === 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return d.toLocaleDateString([], { day: 'numeric', month: 'short', year: 'numeric' });
}
