// Console WebSocket (docs/api.md, "Console WebSocket"): cookie auth, JSON frames,
// {"type":"heartbeat"} every 10 s, reconnect with exponential backoff + jitter.

const HEARTBEAT_MS = 10000;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const STABLE_MS = 5000; // a connection that lived this long resets the backoff

export function consoleWsUrl() {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}/console/ws`;
}

export class ConsoleSocket {
  /**
   * onFrame(frame)            every parsed JSON frame
   * onOpen({reconnect})       after each successful connect
   * onState(state, info)      "connecting" | "open" | "closed"; info.retryInMs when closed
   * beforeReconnect()         async; awaited before a retry (e.g. to check the session → 401)
   */
  constructor({ url = consoleWsUrl(), onFrame, onOpen, onState, beforeReconnect } = {}) {
    this.url = url;
    this.onFrame = onFrame || (() => {});
    this.onOpen = onOpen || (() => {});
    this.onState = onState || (() => {});
    this.beforeReconnect = beforeReconnect || null;
    this.ws = null;
    this.attempt = 0;
    this.everOpened = false;
    this.stopped = true;
    this.heartbeatTimer = null;
    this.retryTimer = null;
    this.openedAt = 0;
    this._online = () => { if (!this.stopped && !this.isOpen()) this.retryNow(); };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this._online);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this._online);
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try { ws.close(1000, 'bye'); } catch { /* ignore */ }
    }
  }

  isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(frame) {
    if (!this.isOpen()) return false;
    try {
      this.ws.send(JSON.stringify(frame));
      return true;
    } catch {
      return false;
    }
  }

  retryNow() {
    clearTimeout(this.retryTimer);
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    this.onState('connecting', {});
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (ws !== this.ws) return;
      this.openedAt = Date.now();
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.onState('open', {});
      this.startHeartbeat();
      try { this.onOpen({ reconnect }); } catch (e) { console.error(e); }
    });
    ws.addEventListener('message', (ev) => {
      if (ws !== this.ws || typeof ev.data !== 'string') return;
      let frame;
      try { frame = JSON.parse(ev.data); } catch { return; }
      if (!frame || typeof frame !== 'object') return;
      try { this.onFrame(frame); } catch (e) { console.error('frame handler failed', e); }
    });
    ws.addEventListener('close', () => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.stopHeartbeat();
      if (this.openedAt && Date.now() - this.openedAt >= STABLE_MS) this.attempt = 0;
      this.openedAt = 0;
      this.scheduleReconnect();
    });
    // 'error' is always followed by 'close'.
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt = Math.min(this.attempt + 1, 10);
    this.onState('closed', { retryInMs: delay });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(async () => {
      if (this.stopped) return;
      if (this.beforeReconnect) {
        try { await this.beforeReconnect(); } catch { /* e.g. network down: just retry */ }
      }
      this.connect();
    }, delay);
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.send({ type: 'heartbeat' });
    this.heartbeatTimer = setInterval(() => this.send({ type: 'heartbeat' }), HEARTBEAT_MS);
  }

  stopHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}
