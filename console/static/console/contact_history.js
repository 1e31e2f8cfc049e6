// The contact panel's history: every message of the contact's conversations the viewer may see,
// grouped by conversation (channel, when it began, its state), oldest first. Text goes to the
// DOM only through textContent (render.js h()).
import { h, channelBadge, channelName, clockTime, fullTime, stateName } from './render.js';
import { paintStatus } from './status.js';
import { dayLabel } from './timeline_words.js';
import { t as tr } from './i18n.js';

/** Messages (oldest first) as groups of consecutive messages of one conversation. */
export function groupByConversation(messages) {
  const groups = [];
  for (const m of messages) {
    const last = groups[groups.length - 1];
    if (last && last.id === (m.conversation_id || '')) last.messages.push(m);
    else groups.push({ id: m.conversation_id || '', messages: [m] });
  }
  return groups;
}

/** The history list's content: one <li> per conversation group, with its header. */
export function renderHistory(list, messages, conversations) {
  const byId = new Map((conversations || []).map((c) => [c.id, c]));
  list.replaceChildren(...groupByConversation(messages).map((g) => groupItem(g, byId.get(g.id))));
}

function groupItem(group, conversation) {
  const first = group.messages[0] || {};
  const channel = (conversation && conversation.channel) || first.channel;
  const began = (conversation && conversation.created_at) || first.sent_at;
  const state = conversation ? stateName(conversation.state) : '';
  const vars = { channel: channelName(channel), day: dayLabel(began), state };
  const heading = state ? tr('history.heading_state', vars) : tr('history.heading', vars);
  const items = h('ol', { class: 'history-messages' }, group.messages.map(historyItem));
  return h('li', { class: 'history-conversation', 'data-testid': 'history-conversation',
    'data-conversation-id': group.id },
  h('div', { class: 'history-conversation-head' }, channelBadge(channel),
    h('span', { 'data-testid': 'history-conversation-title', text: heading })),
  items);
}

function historyItem(m) {
  const author = ['customer', 'agent', 'bot', 'system'].includes(m.author) ? m.author : 'system';
  const ticks = h('span', { class: 'msg-ticks' });
  const node = h('li', { class: `history-item history-${author}${m.private ? ' history-note' : ''}`,
    'data-testid': 'history-message', 'data-channel': m.channel || '', 'data-conversation-id': m.conversation_id || '' },
  h('div', { class: 'history-meta' }, channelBadge(m.channel),
    h('span', { class: 'history-author', text: m.author_name || author }),
    h('time', { datetime: m.sent_at || '', title: fullTime(m.sent_at), text: clockTime(m.sent_at) }),
    author !== 'customer' && !m.private ? ticks : null),
  h('div', { class: 'history-text', text: m.text ?? '' }));
  paintStatus(node, author !== 'customer' && !m.private ? ticks : null, m.status || 'sent');
  return node;
}
