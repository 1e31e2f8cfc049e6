/*
 * Customer web-chat widget for the customer-service hub.
 *
 * Embed with one tag:  <script src="https://HUB/webchat/widget.js" defer></script>
 * Optional attributes on that tag: data-name="Ann" (customer name sent in hello),
 * data-language="zh" (defaults to the page's lang attribute, then the browser language; zh or en),
 * data-queue="billing" (the queue whose business hours and agents decide the offline form).
 *
 * Protocol: docs/api.md, section "Web chat (customer)".
 * Everything is built with DOM APIs and textContent; no data is ever parsed as HTML.
 * Public API: window.HubChat = { open(), close(), send(text), state() }.
 */
(function () {
  'use strict';

  // ---- where the hub lives: derived from this script's own src (captured at load time) ----
  var script = document.currentScript;
  if (!script || !script.src) {
    var all = document.getElementsByTagName('script');
    for (var s = all.length - 1; s >= 0; s--) {
      if (/\/webchat\/widget\.js(\?|#|$)/.test(all[s].src || '')) { script = all[s]; break; }
    }
  }
  if (window.HubChat && window.HubChat.__hubchat) return;   // loaded twice: keep the first

  var scriptUrl = new URL((script && script.src) || '/webchat/widget.js', document.baseURI);
  var BASE = scriptUrl.href.replace(/[?#].*$/, '').replace(/[^\/]*$/, '');   // ".../webchat/"
  var WS_URL = BASE.replace(/^http/, 'ws') + 'ws';                          // ws(s)://HOST/webchat/ws
  var CSS_URL = BASE + 'widget.css';
  var CFG_NAME = (script && script.getAttribute('data-name')) || null;
  var CFG_LANG = languageOf((script && script.getAttribute('data-language')) ||
    document.documentElement.getAttribute('lang') || navigator.language || 'en');
  var CFG_QUEUE = (script && script.getAttribute('data-queue')) || '';
  function languageOf(tag) { return /^zh\b/i.test(String(tag).trim()) ? 'zh' : 'en'; }

  // The widget's own words, in Chinese and English (the hub's messages come in the customer's language).
  var TEXTS = {
    en: {
      open: 'Open customer service chat', closeChat: 'Close customer service chat', chat: 'Customer service chat',
      title: 'Customer service', subtitle: 'We usually reply in a few minutes', close: 'Close chat',
      connecting: 'Connecting…', reconnecting: 'Reconnecting…', empty: 'Hi! How can we help you today?',
      typing: 'Agent is typing…', placeholder: 'Write a message…', message: 'Message', send: 'Send',
      agent: 'Agent', rate: 'Rate 1 to 5', tooLong: 'Message too long', wrong: 'Something went wrong',
      sending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read',
      rate_limited: 'You are sending messages too quickly. Please wait a moment.',
      too_many_conversations: 'Too many new conversations at once. Please wait a moment.',
      too_many_identities: 'Too many new chat sessions at once. Please wait a moment.',
      bad_visitor: 'Your chat session expired; starting a new one.',
      closedNow: 'We are closed now. We open at {opens}. Leave us a message and we will answer.',
      noAgent: 'No agent is available right now. Leave us a message and we will answer.',
      name: 'Your name', email: 'E-mail', phone: 'Phone', formMessage: 'Your message', leave: 'Send message',
      needContact: 'Please give an e-mail address or a phone number.',
      thanks: 'Thank you. We will answer you by e-mail or SMS.', formFailed: 'The message could not be sent: '
    },
    zh: {
      open: '打开在线客服', closeChat: '关闭在线客服', chat: '在线客服',
      title: '在线客服', subtitle: '我们通常几分钟内回复', close: '关闭',
      connecting: '正在连接…', reconnecting: '正在重新连接…', empty: '您好！请问有什么可以帮您？',
      typing: '客服正在输入…', placeholder: '请输入消息…', message: '消息', send: '发送',
      agent: '客服', rate: '请评分 1 到 5', tooLong: '消息太长', wrong: '出错了',
      sending: '发送中', sent: '已发送', delivered: '已送达', read: '已读',
      rate_limited: '您发送得太快了，请稍候。',
      too_many_conversations: '新会话太多，请稍候。',
      too_many_identities: '新聊天太多，请稍候。',
      bad_visitor: '会话已过期，正在开始新的会话。',
      closedNow: '现在是非服务时间，我们将于 {opens} 开始服务。请留言，我们会回复您。',
      noAgent: '目前没有空闲的客服。请留言，我们会回复您。',
      name: '您的姓名', email: '电子邮箱', phone: '手机号码', formMessage: '留言内容', leave: '提交留言',
      needContact: '请填写电子邮箱或手机号码。',
      thanks: '谢谢，我们会通过邮件或短信回复您。', formFailed: '留言未能提交：'
    }
  };
  function t(key) { return TEXTS[CFG_LANG][key] || TEXTS.en[key] || key; }

  var K_VISITOR = 'hubchat.visitor';
  var K_MESSAGES = 'hubchat.messages';
  var K_OUTBOX = 'hubchat.outbox';
  var MAX_MESSAGES = 200;
  var MAX_CHARS = 4000;
  var MAX_FRAME_BYTES = 16 * 1024;
  var RANK = { sending: 0, sent: 1, delivered: 2, read: 3 };
  var ERROR_CODES = ['rate_limited', 'too_many_conversations', 'too_many_identities', 'bad_visitor'];

  // ---------------------------------------------------------------- storage
  var memStore = {};
  function load(key, fallback) {
    var raw = null;
    try { raw = window.localStorage.getItem(key); } catch (e) { raw = memStore[key] || null; }
    if (raw == null) return fallback;
    try { var v = JSON.parse(raw); return v == null ? fallback : v; } catch (e) { return fallback; }
  }
  function save(key, value) {
    var raw = JSON.stringify(value);
    try { window.localStorage.setItem(key, raw); } catch (e) { memStore[key] = raw; }
  }
  function remove(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* ignore */ }
    delete memStore[key];
  }

  function uuid() {
    try {
      if (window.crypto && typeof window.crypto.randomUUID === 'function') return window.crypto.randomUUID();
    } catch (e) { /* insecure context: fall through */ }
    var b = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) window.crypto.getRandomValues(b);
    else for (var i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = [];
    for (var j = 0; j < 16; j++) h.push((b[j] + 0x100).toString(16).slice(1));
    return h.slice(0, 4).join('') + '-' + h.slice(4, 6).join('') + '-' + h.slice(6, 8).join('') + '-' +
      h.slice(8, 10).join('') + '-' + h.slice(10).join('');
  }

  // --------------------------------------------------------------- state
  var visitor = load(K_VISITOR, null);
  if (!visitor || typeof visitor.id !== 'string') visitor = null;

  // Local message record: {key, id, client_id, author, author_name, text, sent_at, status, local_ts, dl, rd}
  // key = id once known, else "c:" + client_id.  dl/rd: delivered/read receipt already sent (agent msgs).
  var messages = [];
  var byKey = {};          // key -> record
  var byClient = {};       // client_id -> record
  var seq = 0;

  var ws = null;
  var connected = false;   // true between welcome and close
  var everConnected = false;
  var attempt = 0;
  var reconnectTimer = null;
  var isOpen = false;
  var typingSentAt = 0;
  var typingActive = false;
  var typingIdleTimer = null;
  var agentTypingTimer = null;
  var errorTimer = null;

  // ------------------------------------------------------------ DOM helpers
  function el(tag, cls, attrs) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (attrs) for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) n.setAttribute(k, attrs[k]);
    return n;
  }
  function text(tag, cls, str) {
    var n = el(tag, cls);
    n.appendChild(document.createTextNode(str == null ? '' : String(str)));
    return n;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function icon(paths, cls, viewBox) {
    var svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', viewBox || '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    if (cls) svg.setAttribute('class', cls);
    for (var i = 0; i < paths.length; i++) {
      var p = document.createElementNS(SVGNS, 'path');
      p.setAttribute('d', paths[i]);
      svg.appendChild(p);
    }
    return svg;
  }
  var ICON_CHAT = ['M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z'];
  var ICON_CLOSE = ['M6 6l12 12M18 6L6 18'];
  var ICON_SEND = ['M3 11.5L21 3l-8.5 18-2.2-7.3L3 11.5z'];
  var ICON_CLOCK = ['M8 2.5a5.5 5.5 0 1 0 0 11 5.5 5.5 0 0 0 0-11z', 'M8 5v3.2l2 1.3'];
  var ICON_CHECK = ['M2.5 8.5l3 3 6.5-7'];
  var ICON_CHECK2 = ['M1 8.5l3 3 6.5-7', 'M7.5 11.5l6.5-7'];

  // --------------------------------------------------------------- build UI
  var host, root, wrap, launcher, badge, panel, listEl, inputEl, sendBtn, typingEl, connEl, errorEl, offlineEl;
  var availabilityAsked = false;

  function build() {
    host = el('div', null, { id: 'hubchat-root' });
    root = host.attachShadow({ mode: 'open' });

    // Styles come from the hub (one source of truth, cacheable, allowed by a style-src 'self'
    // CSP when the page and the hub share an origin).
    root.appendChild(el('link', null, { rel: 'stylesheet', href: CSS_URL }));

    // Kept hidden (UA [hidden] rule) until one of our stylesheets applies and overrides it,
    // so the page never shows an unstyled flash.
    wrap = el('div', 'hc-wrap', { hidden: '' });

    launcher = el('button', 'hc-launcher', {
      type: 'button', 'data-testid': 'hubchat-launcher',
      'aria-label': t('open'), 'aria-expanded': 'false', 'aria-controls': 'hubchat-panel'
    });
    launcher.appendChild(icon(ICON_CHAT, 'hc-ic hc-ic-chat'));
    launcher.appendChild(icon(ICON_CLOSE, 'hc-ic hc-ic-close'));
    badge = text('span', 'hc-badge', '');
    badge.hidden = true;
    launcher.appendChild(badge);

    panel = el('section', 'hc-panel', {
      id: 'hubchat-panel', 'data-testid': 'hubchat-panel', role: 'dialog', 'aria-label': t('chat'),
      lang: CFG_LANG === 'zh' ? 'zh-CN' : 'en'
    });
    panel.hidden = true;

    var header = el('div', 'hc-header');  // not <header>: the host page has its own banner
    var avatar = el('div', 'hc-avatar', { 'aria-hidden': 'true' });
    avatar.appendChild(icon(ICON_CHAT, 'hc-ic'));
    var titles = el('div', 'hc-titles');
    titles.appendChild(text('div', 'hc-title', t('title')));
    titles.appendChild(text('div', 'hc-subtitle', t('subtitle')));
    var closeBtn = el('button', 'hc-close', { type: 'button', 'aria-label': t('close'), 'data-testid': 'hubchat-close' });
    closeBtn.appendChild(icon(ICON_CLOSE, 'hc-ic'));
    header.appendChild(avatar);
    header.appendChild(titles);
    header.appendChild(closeBtn);

    connEl = text('div', 'hc-connection', t('connecting'));
    connEl.setAttribute('data-testid', 'hubchat-connection');
    connEl.setAttribute('role', 'status');

    listEl = el('div', 'hc-messages', { 'data-testid': 'hubchat-messages', role: 'log', 'aria-live': 'polite' });
    var empty = text('div', 'hc-empty', t('empty'));
    listEl.appendChild(empty);

    typingEl = text('div', 'hc-typing', t('typing'));
    typingEl.setAttribute('data-testid', 'hubchat-typing');
    typingEl.hidden = true;

    errorEl = text('div', 'hc-error', '');
    errorEl.setAttribute('data-testid', 'hubchat-error');
    errorEl.setAttribute('role', 'alert');
    errorEl.hidden = true;

    var composer = el('form', 'hc-composer');
    inputEl = el('textarea', 'hc-input', {
      'data-testid': 'hubchat-input', maxlength: String(MAX_CHARS), rows: '1',
      placeholder: t('placeholder'), 'aria-label': t('message'), dir: 'auto'
    });
    sendBtn = el('button', 'hc-send', { type: 'submit', 'data-testid': 'hubchat-send', 'aria-label': t('send') });
    sendBtn.appendChild(icon(ICON_SEND, 'hc-ic'));
    composer.appendChild(inputEl);
    composer.appendChild(sendBtn);

    panel.appendChild(header);
    panel.appendChild(connEl);
    panel.appendChild(listEl);
    offlineEl = el('div', 'hc-offline-box', { 'data-testid': 'hubchat-offline' });
    offlineEl.hidden = true;
    panel.appendChild(offlineEl);
    panel.appendChild(typingEl);
    panel.appendChild(errorEl);
    panel.appendChild(composer);

    wrap.appendChild(panel);
    wrap.appendChild(launcher);
    root.appendChild(wrap);
    document.body.appendChild(host);

    launcher.addEventListener('click', function () { if (isOpen) closePanel(); else openPanel(); });
    closeBtn.addEventListener('click', closePanel);
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { closePanel(); launcher.focus(); }
    });
    composer.addEventListener('submit', function (e) { e.preventDefault(); submitInput(); });
    inputEl.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        submitInput();
      }
    });
    inputEl.addEventListener('input', function () { autosize(); onTypingInput(); });
  }

  function autosize() {
    inputEl.style.height = 'auto';
    inputEl.style.height = Math.min(inputEl.scrollHeight, 120) + 'px';
  }

  // ----------------------------------------------------------- panel state
  function openPanel() {
    if (isOpen) return;
    isOpen = true;
    panel.hidden = false;
    wrap.classList.add('hc-open');
    launcher.setAttribute('aria-expanded', 'true');
    launcher.setAttribute('aria-label', t('closeChat'));
    scrollToBottom(true);
    askAvailability();
    flushReceipts();
    updateBadge();
    try { inputEl.focus({ preventScroll: true }); } catch (e) { inputEl.focus(); }
  }
  function closePanel() {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    wrap.classList.remove('hc-open');
    launcher.setAttribute('aria-expanded', 'false');
    launcher.setAttribute('aria-label', t('open'));
    stopTyping();
  }

  function submitInput() {
    var v = inputEl.value;
    if (!v.trim()) return;
    if (sendText(v)) {
      inputEl.value = '';
      autosize();
    }
    inputEl.focus();
  }

  // --------------------------------------------------------------- messages
  function rank(st) { return RANK.hasOwnProperty(st) ? RANK[st] : 1; }
  function maxStatus(a, b) { return rank(b) > rank(a) ? b : a; }
  function keyOf(m) { return m.id ? m.id : 'c:' + m.client_id; }

  function sortKey(m) {
    var t = m.sent_at ? Date.parse(m.sent_at) : NaN;
    return isNaN(t) ? (m.local_ts || 0) : t;
  }
  function sortMessages() {
    // pending (unacked) messages always after the stored ones, in creation order
    messages.sort(function (a, b) {
      var pa = a.id ? 0 : 1, pb = b.id ? 0 : 1;
      if (pa !== pb) return pa - pb;
      var d = sortKey(a) - sortKey(b);
      return d !== 0 ? d : (a.seq - b.seq);
    });
  }

  function index(m) {
    byKey[keyOf(m)] = m;
    if (m.client_id) byClient[m.client_id] = m;
  }

  /** The files of a server Message: id, name and size only (the widget downloads them itself). */
  function files(list) {
    if (!Array.isArray(list)) return [];
    return list.slice(0, 10).filter(function (f) { return f && typeof f.id === 'string'; }).map(function (f) {
      return { id: f.id, filename: String(f.filename || 'file'), size: Number(f.size) || 0 };
    });
  }

  /** Merge a server Message (or a stored record) into the list; returns the local record. */
  function upsert(src, fromServer) {
    if (!src || (!src.id && !src.client_id)) return null;
    var m = (src.id && byKey[src.id]) || (src.client_id && byClient[src.client_id]) || null;
    var pending = src.client_id && byClient[src.client_id];
    if (m && pending && pending !== m) forget(pending);   // same message known twice: keep the stored one
    if (!m) {
      m = {
        id: src.id || null, client_id: src.client_id || null,
        author: src.author === 'agent' || src.author === 'bot' || src.author === 'system' ? src.author : 'customer',
        buttons: Array.isArray(src.buttons) ? src.buttons.slice(0, 10) : [],
        attachments: files(src.attachments),
        author_name: src.author_name || '', text: src.text == null ? '' : String(src.text),
        sent_at: src.sent_at || null, status: src.status || (src.id ? 'sent' : 'sending'),
        local_ts: src.local_ts || Date.now(), dl: !!src.dl, rd: !!src.rd, seq: seq++
      };
      messages.push(m);
      index(m);
      return m;
    }
    var oldKey = keyOf(m);
    if (src.id && !m.id) m.id = src.id;
    if (oldKey !== keyOf(m)) { delete byKey[oldKey]; }
    if (src.client_id && !m.client_id) m.client_id = src.client_id;
    if (src.sent_at) m.sent_at = src.sent_at;
    if (src.text != null && fromServer) m.text = String(src.text);
    if (src.author_name) m.author_name = src.author_name;
    if (Array.isArray(src.buttons) && src.buttons.length && !m.buttons.length) m.buttons = src.buttons.slice(0, 10);
    if (!m.attachments.length) m.attachments = files(src.attachments);
    if (src.status) m.status = maxStatus(m.status, src.status);
    if (m.status === 'sending' && m.id) m.status = 'sent';
    if (src.dl) m.dl = true;
    if (src.rd) m.rd = true;
    index(m);
    return m;
  }

  function persistMessages() {
    sortMessages();
    var stored = messages.filter(function (m) { return !!m.id; });
    if (stored.length > MAX_MESSAGES) {
      var drop = stored.slice(0, stored.length - MAX_MESSAGES);
      for (var i = 0; i < drop.length; i++) forget(drop[i]);
      stored = stored.slice(stored.length - MAX_MESSAGES);
    }
    save(K_MESSAGES, stored.map(function (m) {
      return {
        id: m.id, client_id: m.client_id || undefined, author: m.author, author_name: m.author_name,
        text: m.text, sent_at: m.sent_at, status: m.status, dl: m.dl || undefined, rd: m.rd || undefined,
        buttons: m.buttons && m.buttons.length ? m.buttons : undefined,
        attachments: m.attachments && m.attachments.length ? m.attachments : undefined
      };
    }));
  }
  function forget(m) {
    var i = messages.indexOf(m);
    if (i >= 0) messages.splice(i, 1);
    delete byKey[keyOf(m)];
    if (m.client_id) delete byClient[m.client_id];
    if (m.node && m.node.parentNode) m.node.parentNode.removeChild(m.node);
  }

  function newestSentAt() {
    var best = null, bt = -Infinity;
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      if (!m.id || !m.sent_at) continue;
      var t = Date.parse(m.sent_at);
      if (!isNaN(t) && t >= bt) { bt = t; best = m.sent_at; }
    }
    return best;
  }

  // outbox: always read-modify-write localStorage so several tabs do not clobber each other
  function outboxLoad() {
    var o = load(K_OUTBOX, []);
    return Array.isArray(o) ? o.filter(function (x) { return x && x.client_id && typeof x.text === 'string'; }) : [];
  }
  function outboxAdd(entry) { var o = outboxLoad(); o.push(entry); save(K_OUTBOX, o); }
  function outboxRemove(clientId) {
    var o = outboxLoad();
    var n = o.filter(function (x) { return x.client_id !== clientId; });
    if (n.length !== o.length) save(K_OUTBOX, n);
  }

  // ------------------------------------------------------------- rendering
  function fmtTime(m) {
    var t = m.sent_at ? new Date(m.sent_at) : new Date(m.local_ts || Date.now());
    if (isNaN(t.getTime())) return '';
    var now = new Date();
    var opts = { hour: '2-digit', minute: '2-digit' };
    try {
      if (t.toDateString() !== now.toDateString()) {
        return t.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + t.toLocaleTimeString(undefined, opts);
      }
      return t.toLocaleTimeString(undefined, opts);
    } catch (e) { return t.toISOString().slice(11, 16); }
  }

  function statusIcon(st) {
    if (st === 'sending') return icon(ICON_CLOCK, 'hc-tick hc-tick-sending', '0 0 16 16');
    if (st === 'sent') return icon(ICON_CHECK, 'hc-tick hc-tick-sent', '0 0 16 16');
    return icon(ICON_CHECK2, 'hc-tick hc-tick-' + (st === 'read' ? 'read' : 'delivered'), '0 0 16 16');
  }

  /** Agent and bot messages: they carry a name and get delivered/read receipts. */
  function fromStaff(m) { return m.author === 'agent' || m.author === 'bot'; }

  // Links in a message made clickable the console's way (console/static/console/links.js): Text nodes
  // and <a> elements built with DOM APIs; only http, https and mailto; a new tab without opener.
  var LINK = /\b(?:https?:\/\/|mailto:|www\.)[^\s<>"'\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/gi;
  var LINK_TAIL = /[.,;:!?'")\]}>]+$/;
  function safeHref(shown) {
    var url;
    try { url = new URL(/^www\./i.test(shown) ? 'https://' + shown : shown); } catch (e) { return null; }
    if (url.protocol === 'mailto:') return url.href;
    if ((url.protocol === 'http:' || url.protocol === 'https:') && url.hostname) return url.href;
    return null;
  }
  function setLinkedText(el, text) {
    while (el.firstChild) el.removeChild(el.firstChild);
    var value = String(text == null ? '' : text), last = 0, links = 0, match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(value)) !== null && links < 50) {
      var shown = match[0].replace(LINK_TAIL, ''), href = shown ? safeHref(shown) : null;
      if (!href) continue;
      if (match.index > last) el.appendChild(document.createTextNode(value.slice(last, match.index)));
      var a = document.createElement('a');
      a.href = href;
      a.textContent = shown;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.className = 'hc-link';
      a.setAttribute('data-testid', 'hubchat-link');
      el.appendChild(a);
      last = match.index + shown.length;
      links += 1;
    }
    if (last < value.length) el.appendChild(document.createTextNode(value.slice(last)));
  }

  /** The satisfaction survey's score buttons (payloads survey:1..5) as five stars; a click sends
   *  the digit, which the hub reads as the score (hub/surveys), and the stars stay as chosen. */
  function isSurvey(buttons) {
    return buttons.length === 5 && buttons.every(function (b) {
      return b && typeof b.payload === 'string' && b.payload.indexOf('survey:') === 0;
    });
  }

  /** The stars once answered (a click, or the customer's reply found after a reload): disabled,
   *  the chosen score lit. Answered or not is decided by renderAll from the messages that follow. */
  function settleStars(box, chosen) {
    if (box.getAttribute('data-chosen')) return;
    box.setAttribute('data-chosen', String(chosen || 0));
    var stars = box.querySelectorAll('.hc-star');
    for (var j = 0; j < stars.length; j++) {
      if (j < chosen) stars[j].classList.add('hc-star-on');
      stars[j].disabled = true;
    }
  }

  function surveyStars(buttons) {
    var box = el('div', 'hc-stars hc-choices', { role: 'group', 'aria-label': t('rate'), 'data-testid': 'hubchat-stars' });
    buttons.forEach(function (b, i) {
      var star = text('button', 'hc-star', '\u2605');
      star.setAttribute('type', 'button');
      star.setAttribute('aria-label', String(i + 1));
      star.setAttribute('data-testid', 'hubchat-star');
      star.setAttribute('data-score', String(i + 1));
      star.addEventListener('click', function () {
        if (box.getAttribute('data-chosen')) return;
        settleStars(box, i + 1);
        sendText(String(i + 1), b.payload);
      });
      box.appendChild(star);
    });
    box._settle = function (answer) { settleStars(box, /^[1-5]$/.test(answer) ? Number(answer) : 0); };
    return box;
  }

  /** An agent's files: a button per file that downloads it with this widget's own credential (in
   *  headers, never in a URL), then saves it under its name. */
  function fileLinks(files) {
    var box = el('div', 'hc-files');
    files.forEach(function (f) {
      if (!f || typeof f.id !== 'string') return;
      var name = typeof f.filename === 'string' && f.filename ? f.filename : 'file';
      var kb = Math.max(1, Math.round((Number(f.size) || 0) / 1024));
      var btn = text('button', 'hc-file', '\uD83D\uDCCE ' + name + ' (' + kb + ' KB)');
      btn.setAttribute('type', 'button');
      btn.setAttribute('data-testid', 'hubchat-file');
      btn.setAttribute('data-filename', name);
      btn.addEventListener('click', function () { download(f.id, name, btn); });
      box.appendChild(btn);
    });
    return box;
  }

  function download(id, name, btn) {
    if (!visitor) return;
    btn.disabled = true;
    fetch(BASE + 'attachments/' + encodeURIComponent(id), {
      headers: { 'X-Visitor-Id': visitor.id, 'X-Visitor-Token': visitor.token }, cache: 'no-store',
    }).then(function (res) {
      if (!res.ok) throw new Error('download failed');
      return res.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }).catch(function () {
      btn.setAttribute('data-failed', 'true');
    }).then(function () { btn.disabled = false; });
  }

  /** A bot's quick-reply buttons: a click sends the title as text and the payload for the bot;
   *  then every button of the set is disabled (one choice per question). */
  function quickReplies(buttons) {
    if (isSurvey(buttons)) return surveyStars(buttons);
    var box = el('div', 'hc-buttons hc-choices');
    function settle() {
      box.setAttribute('data-used', 'true');
      var all = box.querySelectorAll('button');
      for (var j = 0; j < all.length; j++) all[j].disabled = true;
    }
    buttons.forEach(function (b) {
      if (!b || typeof b.title !== 'string') return;
      var btn = text('button', 'hc-quick', b.title);
      btn.setAttribute('type', 'button');
      btn.setAttribute('dir', 'auto');
      btn.setAttribute('data-testid', 'hubchat-button');
      btn.addEventListener('click', function () {
        if (box.getAttribute('data-used')) return;
        settle();
        sendText(b.title, typeof b.payload === 'string' ? b.payload : null);
      });
      box.appendChild(btn);
    });
    box._settle = settle;
    return box;
  }

  function render(m) {
    var n = m.node;
    if (!n) {
      var cls = m.author === 'bot' ? 'agent hc-bot' : m.author;
      n = el('div', 'hc-msg hc-' + cls, { 'data-testid': 'hubchat-message', 'data-author': m.author });
      if (fromStaff(m)) n.appendChild(text('div', 'hc-name', m.author_name || t('agent')));
      var bubble = text('div', 'hc-bubble', m.text);
      bubble.setAttribute('dir', 'auto');  // right-to-left text (Arabic, Hebrew) reads the right way
      n.appendChild(bubble);
      var meta = el('div', 'hc-meta');
      meta.appendChild(text('span', 'hc-time', ''));
      if (m.author === 'customer') meta.appendChild(el('span', 'hc-status'));
      n.appendChild(meta);
      m.node = n;
      m._r = {};
    }
    var r = m._r;
    if (!r.choices && m.buttons && m.buttons.length) {  // buttons may arrive after the text (history)
      r.choices = quickReplies(m.buttons);
      n.insertBefore(r.choices, n.querySelector('.hc-meta'));
    }
    if (!r.files && m.attachments && m.attachments.length) {  // an agent's files (ADR 0046)
      r.files = fileLinks(m.attachments);
      n.insertBefore(r.files, n.querySelector('.hc-meta'));
    }
    var id = m.id || m.client_id;
    if (r.id !== id) { n.setAttribute('data-id', id); r.id = id; }
    if (r.status !== m.status) {
      n.setAttribute('data-status', m.status);
      r.status = m.status;
      var stEl = n.querySelector('.hc-status');
      if (stEl) {
        while (stEl.firstChild) stEl.removeChild(stEl.firstChild);
        stEl.appendChild(statusIcon(m.status));
        stEl.setAttribute('title', t(m.status));
        stEl.setAttribute('role', 'img');
        stEl.setAttribute('aria-label', t(m.status));
      }
    }
    if (r.text !== m.text) {
      var b = n.querySelector('.hc-bubble');
      setLinkedText(b, m.text);
      r.text = m.text;
    }
    if (fromStaff(m) && r.name !== m.author_name) {
      n.querySelector('.hc-name').textContent = m.author_name || t('agent');
      r.name = m.author_name;
    }
    var ts = fmtTime(m);
    if (r.time !== ts) { n.querySelector('.hc-time').textContent = ts; r.time = ts; }
    return n;
  }

  /** Render every message and make the DOM order match the sorted list. */
  function renderAll() {
    sortMessages();
    var stick = nearBottom();
    var prev = null;
    var answer = null;  // the customer's first message after the one being looked at (walking back)
    for (var k = messages.length - 1; k >= 0; k--) {
      var mk = messages[k];
      if (mk.author === 'customer') answer = mk.text;
      else if (answer !== null && mk.buttons && mk.buttons.length) mk.answered = answer;
    }
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      var n = render(m);
      // Answered choices stay as they were chosen, after a reload too: never clickable again.
      if (m.answered != null && m._r.choices && m._r.choices._settle) m._r.choices._settle(m.answered);
      var cont = !!prev && prev.author === m.author &&
        (m.author !== 'agent' || prev.author_name === m.author_name);
      n.classList.toggle('hc-cont', cont);
      var want = prev ? prev.node.nextSibling : firstMsgSlot();
      if (want !== n) listEl.insertBefore(n, want);
      prev = m;
    }
    listEl.classList.toggle('hc-has-messages', messages.length > 0);
    if (stick) scrollToBottom(true);
  }
  function firstMsgSlot() {
    // the empty-state element stays first; messages follow it
    return listEl.firstChild ? listEl.firstChild.nextSibling : null;
  }
  function nearBottom() {
    return !listEl || listEl.scrollHeight - listEl.scrollTop - listEl.clientHeight < 60;
  }
  function scrollToBottom(force) {
    if (!listEl || !(force || nearBottom())) return;
    listEl.scrollTop = listEl.scrollHeight;
  }

  function updateBadge() {
    var unread = 0;
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      if (fromStaff(m) && !m.rd && m.status !== 'read') unread++;
    }
    if (isOpen || !unread) { badge.hidden = true; return; }
    badge.textContent = unread > 9 ? '9+' : String(unread);
    badge.hidden = false;
  }

  // -------------------------------------------------------------- receipts
  function flushReceipts() {
    if (!connected) return;
    var canRead = isOpen && document.visibilityState !== 'hidden';
    var dl = [], rd = [];
    for (var i = 0; i < messages.length; i++) {
      var m = messages[i];
      if (!fromStaff(m) || !m.id) continue;
      if (!m.dl && rank(m.status) < RANK.delivered) dl.push(m);
      if (canRead && !m.rd && m.status !== 'read') rd.push(m);
    }
    if (dl.length && sendFrame({ type: 'delivered', message_ids: dl.map(function (m) { return m.id; }) })) {
      dl.forEach(function (m) { m.dl = true; m.status = maxStatus(m.status, 'delivered'); });
    }
    if (rd.length && sendFrame({ type: 'read', message_ids: rd.map(function (m) { return m.id; }) })) {
      rd.forEach(function (m) { m.rd = true; m.dl = true; m.status = 'read'; });
    }
    if (dl.length || rd.length) { persistMessages(); renderAll(); }
    updateBadge();
  }

  // ------------------------------------------------------------- sending
  function scrub(str) {
    // lone surrogates cannot be encoded as UTF-8; replace them
    return String(str).replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      function (m0, pre) { return (pre || '') + '\uFFFD'; });
  }
  function codePoints(str) { return Array.from(str).length; }
  function frameBytes(obj) {
    var s = JSON.stringify(obj);
    return window.TextEncoder ? new TextEncoder().encode(s).length : unescape(encodeURIComponent(s)).length;
  }

  /** Queue a customer message; returns its client_id, or null if it was rejected locally. */
  function sendText(raw, payload) {
    var t = scrub(raw == null ? '' : raw).replace(/\r\n?/g, '\n').trim();
    if (!t) return null;
    if (codePoints(t) > MAX_CHARS ||
        frameBytes({ type: 'message', client_id: '00000000-0000-4000-8000-000000000000', text: t }) > MAX_FRAME_BYTES) {
      showError(t('tooLong'));
      return null;
    }
    var cid = uuid();
    var entry = { client_id: cid, text: t, local_ts: Date.now() };
    if (payload) entry.payload = String(payload).slice(0, 200);
    outboxAdd(entry);
    upsert({ client_id: cid, author: 'customer', text: t, status: 'sending', local_ts: entry.local_ts }, false);
    renderAll();
    scrollToBottom(true);
    stopTyping();
    if (connected) sendFrame(messageFrame(entry));
    return cid;
  }

  function messageFrame(entry) {
    var f = { type: 'message', client_id: entry.client_id, text: entry.text };
    if (entry.payload) f.payload = entry.payload;
    return f;
  }

  function sendFrame(obj) {
    if (!ws || ws.readyState !== 1) return false;
    try { ws.send(JSON.stringify(obj)); return true; } catch (e) { return false; }
  }

  // --------------------------------------------------------------- typing
  function onTypingInput() {
    if (!connected) return;
    if (!inputEl.value.trim()) { stopTyping(); return; }
    var now = Date.now();
    if (!typingActive || now - typingSentAt >= 2000) {
      if (sendFrame({ type: 'typing', active: true })) { typingActive = true; typingSentAt = now; }
    }
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(stopTyping, 3000);
  }
  function stopTyping() {
    clearTimeout(typingIdleTimer);
    typingIdleTimer = null;
    if (typingActive) {
      typingActive = false;
      typingSentAt = 0;
      sendFrame({ type: 'typing', active: false });
    }
  }
  function showAgentTyping(active) {
    clearTimeout(agentTypingTimer);
    typingEl.hidden = !active;
    if (active) {
      agentTypingTimer = setTimeout(function () { typingEl.hidden = true; }, 6000);
      scrollToBottom(false);
    }
  }

  // ---------------------------------------------------------- offline form
  /** Once per page, when the panel first opens: is the queue open, is an agent available? If not,
   *  offer the offline form (name, e-mail or phone, message), which the hub queues for an agent. */
  function askAvailability() {
    if (availabilityAsked || !window.fetch) return;
    availabilityAsked = true;
    var url = BASE + 'availability' + (CFG_QUEUE ? '?queue=' + encodeURIComponent(CFG_QUEUE) : '');
    fetch(url, { credentials: 'omit' }).then(function (r) { return r.ok ? r.json() : null; }).then(function (a) {
      if (!a || (a.open && a.agents_available)) return;
      var note = a.open ? t('noAgent') : t('closedNow').replace('{opens}', fmtOpening(a.opens_at));
      showOfflineForm(note);
    }).catch(function () { /* the chat works without it */ });
  }

  function fmtOpening(iso) {
    var d = iso ? new Date(iso) : null;
    if (!d || isNaN(d.getTime())) return '…';
    try {
      return d.toLocaleString(CFG_LANG === 'zh' ? 'zh-CN' : 'en', {
        weekday: 'short', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'
      });
    } catch (e) { return d.toISOString().slice(0, 16).replace('T', ' '); }
  }

  function field(name, label, type, max) {
    var wrapEl = el('label', 'hc-field');
    wrapEl.appendChild(text('span', 'hc-field-label', label));
    var input = el(type === 'textarea' ? 'textarea' : 'input', 'hc-field-input', {
      name: name, maxlength: String(max), 'data-testid': 'hubchat-offline-' + name, dir: 'auto'
    });
    if (type !== 'textarea') input.setAttribute('type', type);
    wrapEl.appendChild(input);
    return { label: wrapEl, input: input };
  }

  function showOfflineForm(note) {
    while (offlineEl.firstChild) offlineEl.removeChild(offlineEl.firstChild);
    offlineEl.appendChild(text('p', 'hc-offline-note', note)).setAttribute('data-testid', 'hubchat-offline-note');
    var form = el('form', 'hc-offline-form');
    var name = field('name', t('name'), 'text', 80);
    var email = field('email', t('email'), 'email', 254);
    var phone = field('phone', t('phone'), 'tel', 24);
    var msg = field('message', t('formMessage'), 'textarea', 2000);
    [name, email, phone, msg].forEach(function (f) { form.appendChild(f.label); });
    var submit = text('button', 'hc-offline-send', t('leave'));
    submit.setAttribute('type', 'submit');
    submit.setAttribute('data-testid', 'hubchat-offline-send');
    form.appendChild(submit);
    offlineEl.appendChild(form);
    offlineEl.hidden = false;
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var body = {
        name: scrub(name.input.value).trim(), email: scrub(email.input.value).trim(),
        phone: scrub(phone.input.value).trim(), message: scrub(msg.input.value).trim(), language: CFG_LANG
      };
      if (CFG_QUEUE) body.queue = CFG_QUEUE;
      if (!body.email && !body.phone) { showError(t('needContact')); return; }
      if (!body.name || !body.message) return;
      submit.disabled = true;
      fetch(BASE + 'offline', {
        method: 'POST', credentials: 'omit', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
      }).then(function (r) {
        if (r.status === 201) {
          while (offlineEl.firstChild) offlineEl.removeChild(offlineEl.firstChild);
          offlineEl.appendChild(text('p', 'hc-offline-note', t('thanks'))).setAttribute('data-testid', 'hubchat-offline-thanks');
          return null;
        }
        submit.disabled = false;
        return r.json().then(function (j) {
          showError(t('formFailed') + ((j && j.error && j.error.message) || r.status));
        }, function () { showError(t('formFailed') + r.status); });
      }).catch(function () { submit.disabled = false; showError(t('wrong')); });
    });
  }

  // ---------------------------------------------------------------- errors
  function showError(msg) {
    errorEl.textContent = msg;
    errorEl.hidden = false;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { errorEl.hidden = true; }, 5000);
  }

  // ------------------------------------------------------------ connection
  function setConnected(on) {
    connected = on;
    if (on) {
      connEl.hidden = true;
    } else {
      connEl.textContent = everConnected ? t('reconnecting') : t('connecting');
      connEl.hidden = false;
      typingActive = false;
      clearTimeout(typingIdleTimer);
      showAgentTyping(false);
    }
    wrap.classList.toggle('hc-offline', !on);
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (ws) return;
    var sock;
    try { sock = new WebSocket(WS_URL); } catch (e) { scheduleReconnect(); return; }
    ws = sock;
    sock.onopen = function () {
      if (ws !== sock) return;
      sendFrame({
        type: 'hello',
        visitor: visitor ? { id: visitor.id, token: visitor.token } : null,
        since: newestSentAt(),
        name: CFG_NAME,
        language: CFG_LANG
      });
    };
    sock.onmessage = function (ev) {
      if (ws !== sock || typeof ev.data !== 'string') return;
      var f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f && typeof f === 'object') handleFrame(f);
    };
    sock.onclose = function () {
      if (ws !== sock) return;
      ws = null;
      setConnected(false);
      scheduleReconnect();
    };
    sock.onerror = function () { /* onclose follows */ };
  }

  function scheduleReconnect(delayOverride) {
    if (reconnectTimer) return;
    var base = Math.min(10000, 500 * Math.pow(2, attempt));
    attempt = Math.min(attempt + 1, 10);
    var delay = delayOverride != null ? delayOverride
      : Math.min(10000, Math.round(base * (0.8 + Math.random() * 0.4)));
    reconnectTimer = setTimeout(connect, delay);
  }

  function resync() {
    // The hub's live feed had a gap (ADR 0060): connect again, and hello's `since` brings back
    // what was missed. Spread over two seconds: every widget of that hub process hears it at once.
    var old = ws;
    if (!old) return;
    ws = null;
    setConnected(false);
    try { old.close(); } catch (e) { /* closing anyway */ }
    scheduleReconnect(Math.round(Math.random() * 2000));
  }

  function reconnectSoon() {
    // a network/visibility hint: skip the remaining backoff
    if (!ws && reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; connect(); }
  }

  function handleFrame(f) {
    switch (f.type) {
      case 'welcome': onWelcome(f); break;
      case 'ack': onAck(f); break;
      case 'message':
        if (f.message && f.message.id) {
          var m = upsert(f.message, true);
          if (m && fromStaff(m)) showAgentTyping(false);
          persistMessages();
          renderAll();
          if (m && m.author !== 'customer') scrollToBottom(true);
          flushReceipts();
          updateBadge();
        }
        break;
      case 'status': {
        var sm = f.message_id && byKey[f.message_id];
        if (sm && RANK.hasOwnProperty(f.status)) {
          sm.status = maxStatus(sm.status, f.status);
          persistMessages();
          renderAll();
        }
        break;
      }
      case 'typing': showAgentTyping(!!f.active); break;
      case 'resync': resync(); break;
      case 'error': onError(f); break;
      default: break;
    }
  }

  function onWelcome(f) {
    if (f.visitor && f.visitor.id) {
      if (visitor && visitor.id !== f.visitor.id) {
        // a different identity: the history we hold belongs to the old one
        messages.filter(function (m) { return !!m.id; }).forEach(forget);
      }
      visitor = { id: f.visitor.id, token: f.visitor.token };
      save(K_VISITOR, visitor);
    }
    attempt = 0;
    everConnected = true;
    var hist = Array.isArray(f.history) ? f.history : [];
    for (var i = 0; i < hist.length; i++) {
      var hm = hist[i];
      if (!hm || !hm.id) continue;
      upsert(hm, true);
    }
    persistMessages();
    renderAll();
    setConnected(true);
    // resend every unacked message, in order, with its original client_id (the hub deduplicates;
    // the entry leaves the outbox only when its ack arrives)
    var out = outboxLoad();
    for (var j = 0; j < out.length; j++) {
      var e = out[j];
      if (!byClient[e.client_id]) { upsert({ client_id: e.client_id, author: 'customer', text: e.text, status: 'sending', local_ts: e.local_ts }, false); }
      sendFrame(messageFrame(e));
    }
    renderAll();
    flushReceipts();
  }

  function onAck(f) {
    var cid = f.client_id || (f.message && f.message.client_id);
    if (!cid) return;
    outboxRemove(cid);
    var msg = f.message || {};
    var src = {
      id: msg.id, client_id: cid, author: 'customer', author_name: msg.author_name,
      text: msg.text, sent_at: msg.sent_at, status: msg.status || 'sent'
    };
    if (!src.id) src.id = null;
    var m = byClient[cid];
    if (m || src.id) {
      m = upsert(src, !!msg.text);
      if (m && m.status === 'sending') m.status = 'sent';
    }
    persistMessages();
    renderAll();
  }

  function onError(f) {
    var msg = ERROR_CODES.indexOf(f.code) >= 0 ? t(f.code) : (f.code === 'too_long' ? t('tooLong') : (f.message || t('wrong')));
    showError(msg);
    if (f.code === 'rate_limited' && typeof f.client_id === 'string') {
      // refused for now, not lost: the entry stays in the outbox and goes again when the hub says
      resendLater(f.client_id, typeof f.retry_after_ms === 'number' ? f.retry_after_ms : 2000);
    }
    if (f.code === 'bad_visitor') {
      // stored identity rejected: start over as a new visitor (pending messages stay in the outbox)
      visitor = null;
      remove(K_VISITOR);
      messages.filter(function (m) { return !!m.id; }).forEach(forget);
      persistMessages();
      renderAll();
      var sock = ws;
      if (sock) { ws = null; setConnected(false); try { sock.close(1000); } catch (e) { /* ignore */ } }
      attempt = 0;
      scheduleReconnect(200);
    }
  }

  function resendLater(clientId, delayMs) {
    setTimeout(function () {
      var out = outboxLoad();
      for (var i = 0; i < out.length; i++) {
        if (out[i].client_id === clientId) { sendFrame(messageFrame(out[i])); return; }
      }
    }, Math.min(60000, Math.max(50, delayMs)));
  }

  // ---------------------------------------------------------- other tabs
  window.addEventListener('storage', function (e) {
    if (e.key === K_MESSAGES && e.newValue) {
      var list;
      try { list = JSON.parse(e.newValue); } catch (x) { return; }
      if (!Array.isArray(list)) return;
      for (var i = 0; i < list.length; i++) if (list[i] && list[i].id) upsert(list[i], true);
      renderAll();
      updateBadge();
    } else if (e.key === K_VISITOR && e.newValue) {
      try { var v = JSON.parse(e.newValue); if (v && v.id) visitor = v; } catch (x) { /* ignore */ }
    }
  });

  // ------------------------------------------------------------ start up
  function restore() {
    var stored = load(K_MESSAGES, []);
    if (Array.isArray(stored)) {
      for (var i = 0; i < stored.length; i++) if (stored[i] && stored[i].id) upsert(stored[i], true);
    }
    var out = outboxLoad();
    for (var j = 0; j < out.length; j++) {
      var e = out[j];
      if (!byClient[e.client_id]) {
        upsert({ client_id: e.client_id, author: 'customer', text: e.text, status: 'sending', local_ts: e.local_ts }, false);
      }
    }
  }

  function start() {
    if (document.getElementById('hubchat-root')) return;
    build();
    restore();
    renderAll();
    updateBadge();
    setConnected(false);
    connect();
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') { flushReceipts(); reconnectSoon(); }
    });
    window.addEventListener('online', reconnectSoon);
    // keep relative dates honest ("today" vs. a date) for long-open pages
    setInterval(function () { if (isOpen) renderAll(); }, 60000);
  }

  window.HubChat = {
    __hubchat: true,
    open: function () { if (panel) openPanel(); },
    close: function () { if (panel) closePanel(); },
    send: function (t) { return panel ? sendText(t) : null; },
    state: function () {
      return { connected: connected, visitor_id: visitor ? visitor.id : null, outbox: outboxLoad().length };
    }
  };


  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
