// Agent inbox page (/console/): wires the HTTP API, the console WebSocket, the inbox
// lists and the conversation view together.
import { api, convPath, setConsoleSocket, setCsrf } from './api.js';
import { ConsoleSocket } from './ws.js';
import { Inbox } from './inbox.js';
import { ConversationView } from './conversation.js';
import { ContactPanel } from './contact.js';
import { FindPanel, ConversationTools } from './find.js';
import { initTopbar, stateLabel } from './topbar.js';
import { alertMessage, alertOffer, alertWoken, installAlertsButton } from './alerts.js';
import { SnoozeControl } from './snooze.js';
import { Shortcuts } from './shortcuts.js';
import { t } from './i18n.js';
import { h, clear, toast, toastError } from './render.js';

const BASE_TITLE = 'Northgrid Hub';

const state = {
  me: null,
  queues: new Map(),
  inbox: null,
  view: null,
  topbar: null,
  socket: null,
};

function queueName(id) {
  const q = state.queues.get(id);
  return (q && q.name) || id;
}

function isVisible() {
  return document.visibilityState !== 'hidden';
}

function selectConversation(summary) {
  if (!summary) return;
  state.inbox.select(summary.id);
  if (location.hash.slice(1) !== summary.id) {
    history.replaceState(null, '', `#${encodeURIComponent(summary.id)}`);
  }
  state.view.open(summary.id, summary);
  state.contact.follow(summary);
  state.snooze.follow(state.view.summary || summary);
}

async function accept(summary) {
  const { inbox } = state;
  inbox.setBusy(summary.id, true);
  try {
    const data = await api.post(convPath(summary.id, 'accept'), {});
    inbox.offers.delete(summary.id);
    const conv = data.conversation || { ...summary, state: 'assigned', agent_id: state.me.id };
    inbox.upsert(conv);
    selectConversation(inbox.get(conv.id) || conv);
    state.view.focusWhenReady(); // the reply box, as soon as the conversation is open
  } catch (err) {
    toastError(err);
    // 404/409: the offer is gone (expired, taken elsewhere).
    if (err.status === 404 || err.status === 409) inbox.withdrawOffer(summary.id);
  } finally {
    inbox.setBusy(summary.id, false);
  }
}

async function decline(summary) {
  const { inbox, view } = state;
  inbox.setBusy(summary.id, true);
  try {
    const data = await api.post(convPath(summary.id, 'decline'), {});
    inbox.withdrawOffer(summary.id);
    if (data.conversation) inbox.upsert(data.conversation);
    if (view.id === summary.id) view.close();
  } catch (err) {
    toastError(err);
    if (err.status === 404 || err.status === 409) inbox.withdrawOffer(summary.id);
  } finally {
    inbox.setBusy(summary.id, false);
  }
}

/** A voice offer rings the agent's phone: show who calls, what they chose and their history
 *  with us (earlier conversations on any channel) beside Accept. */
function ringDetails(summary) {
  if (!summary || summary.channel !== 'voice') return;
  const contactId = summary.contact && summary.contact.id;
  const history = contactId
    ? api.get(`/api/contacts/${encodeURIComponent(contactId)}`).then((d) => d.contact.conversations || [], () => null)
    : Promise.resolve(null);
  Promise.all([api.get(convPath(summary.id, 'call')), history])
    .then(([data, conversations]) => state.inbox.setCall(summary.id, { ...data.call, history: conversations }))
    .catch(() => { /* the offer is gone meanwhile, or the call: the line shows the offer alone */ });
}

async function loadInbox() {
  const { inbox } = state;
  inbox.beginSnapshot();
  try {
    const data = await api.get('/api/inbox');
    inbox.applySnapshot(data);
    for (const s of data.offers || []) ringDetails(s);
  } catch (err) {
    inbox.snapshotLoading = false;
    toastError(err);
  }
}

/** Frames may have been missed (this socket reconnected, or the hub's bus had a gap): read again. */
function resync() {
  loadInbox();
  if (state.view.id) state.view.load();
}

function handleFrame(frame) {
  const { inbox, view } = state;
  switch (frame.type) {
    case 'hello':
      setConsoleSocket(frame.socket);
      if (frame.agent) {
        state.me = { ...state.me, ...frame.agent };
        state.topbar.update(frame.agent);
        inbox.setMe(state.me);
        view.setMe(state.me);
      }
      break;
    case 'offer':
      if (frame.conversation) {
        // The hub sends open offers again after its bus had a gap (ADR 0060): ring once per offer.
        const known = inbox.offers.has(frame.conversation.id);
        inbox.addOffer(frame.conversation, frame.expires_at);
        ringDetails(frame.conversation);
        if (!known) {
          alertOffer(frame.conversation, () => selectConversation(inbox.get(frame.conversation.id)));
          if (!isVisible()) flashTitle();
        }
      }
      break;
    case 'resync':
      resync();
      break;
    case 'offer_withdrawn':
      inbox.withdrawOffer(frame.conversation_id);
      break;
    case 'conversation':
      if (frame.conversation) {
        inbox.upsert(frame.conversation);
        view.updateSummary(frame.conversation);
        if (frame.conversation.id === view.id) {
          state.tools.follow(view.summary);
          state.snooze.follow(view.summary);
        }
        state.contact.onConversation(frame.conversation);
        if (frame.event === 'woken' && state.me && frame.conversation.agent_id === state.me.id) {
          alertWoken(frame.conversation, () => selectConversation(inbox.get(frame.conversation.id)));
          if (!isVisible()) flashTitle();
        }
      }
      break;
    case 'contact':  // a contact was renamed, linked, given details or merged: the panel reads it again
      state.contact.onContactFrame(frame);
      break;
    case 'conversation_gone':
      inbox.forget(frame.conversation_id);
      state.contact.onConversationGone(frame.conversation_id);
      break;
    case 'message': {
      const open = view.id === frame.conversation_id;
      inbox.onMessage(frame.conversation_id, frame.message, { isOpenAndVisible: open && isVisible() });
      if (open) view.addMessage(frame.message);
      const mine = inbox.get(frame.conversation_id);
      if (mine && frame.message && frame.message.author === 'customer' && !(open && isVisible())) {
        alertMessage(mine, frame.message, () => selectConversation(inbox.get(frame.conversation_id)));
        if (!isVisible()) flashTitle();
      }
      break;
    }
    case 'status':
      if (view.id === frame.conversation_id) view.setStatus(frame.message_id, frame.status);
      break;
    case 'typing':
      if (view.id === frame.conversation_id) view.showTyping(!!frame.active);
      break;
    case 'presence':  // her status set elsewhere: by the hub after missed offers, or a supervisor
      state.me = { ...state.me, status: frame.status, pause_reason: frame.pause_reason || null };
      state.topbar.update({ status: frame.status, pause_reason: frame.pause_reason || null });
      if (frame.pause_reason === 'missed_offers') toast(t('app.missed_offers', { state: stateLabel(frame.status, frame.pause_reason) }));
      break;
    case 'call':
      view.onCallFrame(frame);
      if (inbox.offers.has(frame.conversation_id)) ringDetails(inbox.get(frame.conversation_id));
      break;
    case 'error':
      toast(frame.message || frame.code || t('app.server_error'));
      break;
    default:
      break; // overview (supervisors) and future frame types
  }
}

let titleFlash = false;
function flashTitle() {
  titleFlash = true;
  updateTitle(state.inbox.counts());
}

function updateTitle(counts) {
  // Offers waiting and customer messages not read yet, in the tab's title.
  const n = counts.offers + (counts.unread || 0);
  const what = counts.offers > 0 ? t('app.title_offer') : t('app.title_message');
  document.title = n > 0 ? `(${n}) ${titleFlash ? what : ''}${BASE_TITLE}` : BASE_TITLE;
}

function showFatal(message) {
  const pane = document.getElementById('empty-state');
  clear(pane);
  pane.appendChild(h('div', { class: 'empty-title', text: t('app.fatal') }));
  pane.appendChild(h('p', { class: 'empty-text', text: message }));
  pane.appendChild(h('button', { type: 'button', class: 'btn', text: t('app.retry'), onclick: () => location.reload() }));
}

async function main() {
  let me;
  try {
    me = await api.get('/api/me');
  } catch (err) {
    if (err.status !== 401) showFatal(err.message);
    return;
  }
  if (me.csrf_token) setCsrf(me.csrf_token);
  state.me = me.agent || {};
  document.body.classList.remove('is-booting');
  state.topbar = initTopbar(state.me);
  installAlertsButton(document.getElementById('logout'));
  state.shortcuts = new Shortcuts(document, { helpButtonBefore: document.getElementById('logout') });

  state.contact = new ContactPanel(document.getElementById('contact-panel'), { me: state.me });
  state.view = new ConversationView({
    me: state.me,
    queueName,
    onSummary: (s) => {
      state.inbox.upsert(s);
      if (s.id === state.view.id) {
        state.contact.follow(s);
        state.tools.follow(state.view.summary);
        state.snooze.follow(state.view.summary);
      }
    },
    onRead: (id) => state.inbox.markRead(id),
    onOwnMessage: (id, message) => state.inbox.onMessage(id, message, { isOpenAndVisible: true }),
  });
  // Find, take and hand on (find.js): the search panel and the open conversation's tools.
  state.tools = new ConversationTools(document.getElementById('conv-tools'), {
    me: state.me,
    onSummary: (s) => { state.inbox.upsert(s); state.view.updateSummary(s); state.find.run(); },
    onGone: (id) => {
      state.inbox.forget(id);
      if (state.view.id === id) { state.view.close(); state.tools.follow(null); }
      state.find.run();
    },
  });
  state.snooze = new SnoozeControl(document.getElementById('conv-snooze'), {
    me: state.me,
    onSummary: (s) => { state.inbox.upsert(s); state.view.updateSummary(s); },
  });
  state.find = new FindPanel(document.getElementById('find-panel'), { onOpen: selectConversation, queueName });
  state.tools.loadColleagues();
  state.find.loadLabels();
  state.find.run();
  state.inbox = new Inbox({
    offers: document.getElementById('offers-list'),
    assigned: document.getElementById('assigned-list'),
    snoozed: document.getElementById('snoozed-list'),
    snoozedCount: document.getElementById('snoozed-count'),
    queued: document.getElementById('queued-list'),
    offersCount: document.getElementById('offers-count'),
    assignedCount: document.getElementById('assigned-count'),
    queuedCount: document.getElementById('queued-count'),
  }, {
    me: state.me,
    queueName,
    onSelect: selectConversation,
    onAccept: accept,
    onDecline: decline,
    onChange: updateTitle,
  });

  // Lookups (independent; a failure only degrades the matching control).
  api.get('/api/queues').then((d) => {
    const queues = Array.isArray(d.queues) ? d.queues : [];
    state.queues = new Map(queues.map((q) => [q.id, q]));
    state.view.setQueues(queues);
    state.inbox.render();
  }).catch(toastError);
  api.get('/api/canned').then((d) => state.view.setCanned(Array.isArray(d.canned) ? d.canned : [])).catch(toastError);
  api.get('/api/wrap_up_codes').then((d) => state.view.setCodes(Array.isArray(d.codes) ? d.codes : [])).catch(toastError);

  state.socket = new ConsoleSocket({
    onFrame: handleFrame,
    onState: (s, info) => state.topbar.setConnection(s, info),
    onOpen: ({ reconnect }) => {
      // Frames may have been missed while disconnected: resync.
      if (reconnect) resync();
    },
    // A failed upgrade looks like a plain close: check the session (401 → login page).
    beforeReconnect: () => api.get('/api/me'),
  });
  state.socket.start();

  await loadInbox();

  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted) {
    const s = state.inbox.get(wanted);
    selectConversation(s || { id: wanted });
  }

  setInterval(() => state.inbox.tick(), 1000);
  document.addEventListener('visibilitychange', () => {
    if (!isVisible()) return;
    titleFlash = false;
    updateTitle(state.inbox.counts());
    if (state.view.id && state.inbox.unread.has(state.view.id)) state.view.markRead();
  });
  window.addEventListener('focus', () => {
    if (titleFlash) { titleFlash = false; updateTitle(state.inbox.counts()); }
  });
}

main();
