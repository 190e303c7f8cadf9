// The realtime client: one WebSocket that survives what real connections go
// through, and hands the page each event exactly once, in order per channel.
//
// - API Gateway closes a connection idle for 10 minutes: we ping well before.
// - API Gateway closes every connection after 2 hours: we reconnect on our own
//   terms shortly before, instead of losing whatever was in flight at the cut.
// - Connections drop (sleep, Wi-Fi, deploys): we reconnect with exponential
//   backoff and jitter, so a fleet of tabs does not stampede a recovering server.
// - Events must not be lost across a reconnect: each channel is subscribed again
//   with `since` = the last seq seen on it, and the server replays what we missed.
// - One event can arrive twice: once per channel it was published to (an upload
//   into a chapter reaches both `user:` and `course:`), and again in a replay.
//   The envelope's `id` is the same on every copy: we drop repeats by id.
// - A connection's rights end with its token: past the token's `exp` the
//   server delivers nothing to it and refuses `subscribe` (`token_expired`).
//   Shortly before, we ask `token()` for a fresh one and present it in place
//   (`authenticate`); if the rights lapsed meanwhile (a sleeping laptop), each
//   channel is subscribed again with `since`, so nothing is lost.

import { backoffDelay } from './backoff.js';

/** @typedef {import('./types.js').ServerEvent} ServerEvent */
/** @typedef {import('./types.js').ServerMessage} ServerMessage */
/** @typedef {import('./types.js').ControlMessage} ControlMessage */

/**
 * `connecting`: the first connection is being opened; `open`: connected;
 * `reconnecting`: the connection dropped and another is being opened (or
 * waited for); `closed`: close() was called.
 * @typedef {'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed'} ConnectionState
 *
 * @typedef {object} RealtimeOptions
 * @property {string} url the WebSocket URL without the token, e.g. `wss://host/ws`
 * @property {() => string | Promise<string>} token called before every (re)connect,
 *   so an expired token is replaced rather than retried forever
 * @property {typeof WebSocket} [WebSocket]
 * @property {number} [pingIntervalMs] under API Gateway's 10-minute idle limit
 * @property {number} [pongTimeoutMs] a ping unanswered this long means a dead connection
 * @property {number} [maxConnectionMs] reconnect before API Gateway's 2-hour cap
 * @property {{baseMs?: number, maxMs?: number}} [backoff]
 * @property {number} [rememberIds] how many event ids to remember for dropping repeats
 * @property {EventTarget} [connectivity] what fires `online` (the window)
 * @property {number} [refreshBeforeMs] present a fresh token this long before
 *   the current one expires
 */

/** @type {Set<string>} */
const CONTROL = new Set(['subscribed', 'unsubscribed', 'pong', 'authenticated', 'error']);
// What an `authenticate` refused for good means: this token cannot renew this
// connection (another user signed in, or the provider handed back garbage).
// A new connection with it either works or fails like any connect.
const REAUTH_BY_RECONNECT = new Set(['token_subject_mismatch', 'invalid_token']);

/**
 * When a JWT expires (ms since the epoch), read from its payload without
 * verifying it: the server verifies; this only decides when to refresh.
 * @param {string} token
 * @returns {number | null}
 */
export function tokenExpiry(token) {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const exp = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '='))).exp;
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

export class RealtimeClient {
  /** @type {ConnectionState} */
  state = 'idle';

  /** @type {WebSocket | null} */
  #socket = null;
  /** Channels the page asked for: subscribed again on every new connection. */
  #wanted = new Set();
  /** @type {Map<string, number>} the last durable seq seen per channel */
  #lastSeq = new Map();
  /** Channels waiting for a replay after a gap in their seqs. */
  #resyncing = new Set();
  /**
   * @type {Map<string, number>} the highest seq dropped while a channel waited
   * for its replay: a live event can overtake the `subscribed` that starts the
   * replay, and then lies past what the replay holds
   */
  #dropped = new Map();
  /** @type {Map<string, number>} once the replay reaches this seq, ask again from there */
  #askAgainAt = new Map();
  /**
   * Per channel, the lowest `since` asked for since its last `subscribed`: a
   * reply below it means the server's sequence restarted. A reply below the
   * last seq *held* does not: events the server delivered while it answered
   * can overtake the reply that was read before them.
   * @type {Map<string, number>}
   */
  #asked = new Map();
  /** @type {Set<string>} */
  #seenIds = new Set();
  #attempt = 0;
  /** @type {ReturnType<typeof setTimeout>[]} */
  #timers = [];
  /** @type {ReturnType<typeof setTimeout> | null} */
  #pongTimer = null;
  /** @type {ReturnType<typeof setTimeout> | null} */
  #refreshTimer = null;
  /** The expiry (ms) of the token this connection's rights come from. */
  #rightsUntil = /** @type {number | null} */ (null);
  /** The token sent in an `authenticate` not answered yet. */
  #presenting = /** @type {string | null} */ (null);
  /** @type {Set<(event: ServerEvent) => void>} */
  #eventListeners = new Set();
  /** @type {Set<(message: ControlMessage) => void>} */
  #controlListeners = new Set();
  /** @type {Set<(state: ConnectionState) => void>} */
  #stateListeners = new Set();
  /** @type {Set<(channel: string) => void>} */
  #resyncListeners = new Set();

  /** @param {RealtimeOptions} options */
  constructor({
    url,
    token,
    WebSocket: WebSocketImpl = globalThis.WebSocket,
    pingIntervalMs = 5 * 60_000,
    pongTimeoutMs = 15_000,
    maxConnectionMs = 110 * 60_000,
    backoff = { baseMs: 500, maxMs: 30_000 },
    rememberIds = 2_000,
    connectivity = globalThis,
    refreshBeforeMs = 60_000,
  }) {
    this.url = url;
    this.connectivity = connectivity;
    this.token = token;
    this.WebSocket = WebSocketImpl;
    this.options = { pingIntervalMs, pongTimeoutMs, maxConnectionMs, backoff, rememberIds, refreshBeforeMs };
  }

  // ---- the page's side ----------------------------------------------------------

  /** Open the connection (and keep it open until close()). */
  connect() {
    if (this.state !== 'idle' && this.state !== 'closed') return;
    this.#setState('connecting');
    this.connectivity?.addEventListener?.('online', this.#onOnline);
    this.#open();
  }

  /** Back online: waiting out the rest of a long backoff would only delay the catch-up. */
  #onOnline = () => {
    if (this.state !== 'reconnecting' || this.#socket) return;
    this.#clearTimers();
    this.#attempt = 0;
    this.#open();
  };

  /** Close for good: no reconnects. */
  close() {
    this.#setState('closed');
    this.connectivity?.removeEventListener?.('online', this.#onOnline);
    this.#clearTimers();
    const socket = this.#socket;
    this.#socket = null;
    socket?.close(1000, 'client closed');
  }

  /**
   * Receive a channel's events from now on, and across reconnects.
   * @param {string} channel e.g. `course:c_1`
   */
  subscribe(channel) {
    this.#wanted.add(channel);
    this.#sendSubscribe(channel);
  }

  /** @param {string} channel */
  unsubscribe(channel) {
    this.#wanted.delete(channel);
    this.#lastSeq.delete(channel);
    this.#send({ action: 'unsubscribe', channel });
  }

  /**
   * Every event, once, with repeats dropped. Control replies are not events.
   * @param {(event: ServerEvent) => void} listener
   */
  onEvent(listener) {
    return addTo(this.#eventListeners, listener);
  }

  /**
   * Control replies (`subscribed`, `unsubscribed`, `pong`, `error`).
   * @param {(message: ControlMessage) => void} listener
   */
  onControl(listener) {
    return addTo(this.#controlListeners, listener);
  }

  /**
   * Called with the current state now and on every change.
   * @param {(state: ConnectionState) => void} listener
   */
  onState(listener) {
    listener(this.state);
    return addTo(this.#stateListeners, listener);
  }

  /**
   * Called when a channel's missed events cannot all be replayed (they
   * expired, a number was never stored, or the server's sequence restarted):
   * what the page holds for that channel should be fetched again.
   * @param {(channel: string) => void} listener
   */
  onResync(listener) {
    return addTo(this.#resyncListeners, listener);
  }

  /** @param {string} channel */
  lastSeq(channel) {
    return this.#lastSeq.get(channel) ?? null;
  }

  // ---- the connection -----------------------------------------------------------

  async #open() {
    /** @type {WebSocket} */
    let socket;
    /** @type {string} */
    let token;
    try {
      token = await this.token();
      if (this.state === 'closed') return;
      const separator = this.url.includes('?') ? '&' : '?';
      socket = new this.WebSocket(`${this.url}${separator}token=${encodeURIComponent(token)}`);
    } catch {
      // No token (signed out, sign-in service down) or a URL the browser
      // refuses: try again later like any failed connection.
      return this.#scheduleReconnect();
    }
    this.#socket = socket;
    socket.onopen = () => {
      if (socket !== this.#socket) return;
      this.#setState('open');
      this.#resyncing.clear();
      this.#dropped.clear();
      this.#asked.clear();
      this.#askAgainAt.clear();
      this.#presenting = null;
      this.#planRefresh(token);
      // Channels with a known seq include the user channel the server joins
      // every connection to: asking for it again with `since` replays what
      // the user missed while we were away.
      for (const channel of new Set([...this.#wanted, ...this.#lastSeq.keys()])) {
        this.#sendSubscribe(channel);
      }
      this.#schedule(() => this.#ping(), this.options.pingIntervalMs);
      // Reconnect before the gateway's hard cap; the jitter keeps tabs that
      // opened together from all reconnecting in the same second.
      const cap = this.options.maxConnectionMs;
      this.#schedule(() => this.#recycle(), cap - Math.floor(Math.random() * cap * 0.05));
    };
    socket.onmessage = (message) => {
      if (socket !== this.#socket) return;
      this.#receive(String(message.data));
    };
    socket.onclose = () => {
      if (socket !== this.#socket) return;
      this.#socket = null;
      if (this.state !== 'closed') this.#scheduleReconnect();
    };
    // An error is always followed by close, which does the work.
    socket.onerror = () => {};
  }

  /**
   * Present a fresh token before this one's rights end.
   * @param {string} token the token the connection's rights now come from
   */
  #planRefresh(token) {
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
    this.#rightsUntil = tokenExpiry(token);
    if (this.#rightsUntil === null) return;
    const delay = Math.max(1_000, this.#rightsUntil - this.options.refreshBeforeMs - Date.now());
    this.#refreshTimer = setTimeout(() => this.#reauthenticate(), delay);
  }

  /** Ask for a fresh token and present it on the open connection. */
  async #reauthenticate() {
    if (this.#presenting !== null) return;
    const socket = this.#socket;
    /** @type {string} */
    let token;
    try {
      token = await this.token();
    } catch {
      // No token now (the sign-in service is down): try again shortly; the
      // server keeps the connection, it only stops delivering at expiry.
      this.#refreshTimer = setTimeout(() => this.#reauthenticate(), 5_000);
      return;
    }
    if (socket !== this.#socket || this.state !== 'open') return;
    this.#presenting = token;
    this.#send({ action: 'authenticate', token });
  }

  /** The server took the token we presented. */
  #authenticated() {
    const token = this.#presenting;
    this.#presenting = null;
    if (token === null) return;
    const lapsed = this.#rightsUntil !== null && Date.now() >= this.#rightsUntil;
    this.#planRefresh(token);
    if (lapsed) {
      // Events published while the rights had lapsed were not delivered:
      // `since` replays them (and the ids of those we have drop out).
      for (const channel of new Set([...this.#wanted, ...this.#lastSeq.keys()])) {
        this.#sendSubscribe(channel);
      }
    }
  }

  /** @param {{code: string}} error */
  #refused({ code }) {
    if (code === 'token_expired' && this.#presenting === null) {
      // Our clock or timer was late (the laptop slept): renew now.
      this.#rightsUntil = Math.min(this.#rightsUntil ?? 0, Date.now());
      this.#reauthenticate();
    } else if (this.#presenting !== null && (code === 'token_expired' || REAUTH_BY_RECONNECT.has(code))) {
      this.#presenting = null;
      if (REAUTH_BY_RECONNECT.has(code)) {
        this.#recycle();
      } else {
        this.#refreshTimer = setTimeout(() => this.#reauthenticate(), 5_000);
      }
    }
  }

  #scheduleReconnect() {
    this.#clearTimers();
    if (this.state === 'closed') return;
    this.#setState(this.state === 'connecting' && this.#attempt === 0 ? 'connecting' : 'reconnecting');
    const delay = backoffDelay(this.#attempt++, this.options.backoff);
    this.#schedule(() => this.#open(), delay);
  }

  /** The planned reconnect before the 2-hour cap: no backoff, nothing lost (replay). */
  #recycle() {
    const old = this.#socket;
    this.#socket = null;
    this.#clearTimers();
    old?.close(1000, 'recycling before the 2-hour limit');
    this.#attempt = 0;
    this.#setState('reconnecting');
    this.#open();
  }

  #ping() {
    this.#send({ action: 'ping' });
    this.#pongTimer = setTimeout(() => {
      // Half-open connections (a laptop lid closed, a NAT forgot us) never
      // fire close on their own: an unanswered ping is how we notice.
      const dead = this.#socket;
      this.#socket = null;
      dead?.close(4000, 'ping unanswered');
      this.#scheduleReconnect();
    }, this.options.pongTimeoutMs);
    this.#schedule(() => this.#ping(), this.options.pingIntervalMs);
  }

  /** @param {string} channel */
  #sendSubscribe(channel) {
    const since = this.#lastSeq.get(channel);
    if (since !== undefined) this.#asked.set(channel, Math.min(this.#asked.get(channel) ?? since, since));
    this.#send(since === undefined ? { action: 'subscribe', channel } : { action: 'subscribe', channel, since });
  }

  /** @param {object} message */
  #send(message) {
    if (this.#socket && this.#socket.readyState === this.WebSocket.OPEN) {
      this.#socket.send(JSON.stringify(message));
    }
  }

  // ---- incoming messages --------------------------------------------------------

  /** @param {string} text */
  #receive(text) {
    /** @type {ServerMessage} */
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    // Any message proves the connection alive, not just a pong.
    if (this.#pongTimer) clearTimeout(this.#pongTimer);
    this.#pongTimer = null;

    if (isControl(message)) {
      if (message.type === 'subscribed' && message.data) this.#subscribed(message.data);
      if (message.type === 'authenticated') this.#authenticated();
      if (message.type === 'error' && message.data) this.#refused(message.data);
      for (const listener of this.#controlListeners) listener(message);
      return;
    }
    if (!this.#inOrder(message)) return;
    if (this.#seenIds.has(message.id)) return;
    this.#remember(message.id);
    for (const listener of this.#eventListeners) listener(message);
  }

  /**
   * @param {{channel: string, seq: number, replayComplete?: boolean | null}} reply
   *   `seq` is the channel's current seq; `replayComplete` (with `since` only)
   *   says whether the replay that follows holds every missed event
   */
  #subscribed({ channel, seq, replayComplete }) {
    // A healthy subscription: reconnect backoff starts from scratch next time.
    this.#attempt = 0;
    this.#resyncing.delete(channel);
    const dropped = this.#dropped.get(channel);
    this.#dropped.delete(channel);
    const last = this.#lastSeq.get(channel);
    const asked = this.#asked.get(channel);
    this.#asked.delete(channel);
    if (last === undefined) {
      this.#lastSeq.set(channel, seq);
    } else if ((asked !== undefined && seq < asked) || replayComplete === false) {
      // The replay cannot bring us up to date: the server's sequence
      // restarted (a reset local stack), or missed events expired or were
      // never stored. Start from its present (dropping the partial replay),
      // or from what overtook the reply if that is later, and let the page
      // refetch what it shows.
      const restarted = asked !== undefined && seq < asked;
      this.#lastSeq.set(channel, restarted ? seq : Math.max(seq, last));
      for (const listener of this.#resyncListeners) listener(channel);
    }
    if (dropped !== undefined && dropped > seq) {
      // Events past the replay arrived live before this reply and were
      // dropped: once the replay is in, ask again from there.
      if ((this.#lastSeq.get(channel) ?? seq) >= seq) this.#askAgain(channel);
      else this.#askAgainAt.set(channel, seq);
    }
  }

  /**
   * Durable events must arrive in seq order per channel. A repeat (seq already
   * seen) is dropped; a gap asks the server to replay from the last seq seen,
   * and events are dropped until that replay starts: it holds them, or, for
   * those that overtook its `subscribed`, we ask again once it is in.
   *
   * @param {ServerEvent} event
   */
  #inOrder(event) {
    if (event.seq == null || !event.channel) return true;
    const last = this.#lastSeq.get(event.channel);
    if (last === undefined) {
      this.#lastSeq.set(event.channel, event.seq);
      return true;
    }
    if (event.seq <= last) return false;
    if (event.seq > last + 1) {
      this.#dropped.set(event.channel, Math.max(event.seq, this.#dropped.get(event.channel) ?? 0));
      if (!this.#resyncing.has(event.channel)) this.#askAgain(event.channel);
      return false;
    }
    this.#lastSeq.set(event.channel, event.seq);
    const askAt = this.#askAgainAt.get(event.channel);
    if (askAt !== undefined && event.seq >= askAt) {
      this.#askAgainAt.delete(event.channel);
      this.#askAgain(event.channel);
    }
    return true;
  }

  /** Ask for a replay from the last seq seen; events past it wait for it. @param {string} channel */
  #askAgain(channel) {
    this.#resyncing.add(channel);
    this.#sendSubscribe(channel);
  }

  /** @param {string} id */
  #remember(id) {
    this.#seenIds.add(id);
    // A Set iterates in insertion order: the first entry is the oldest.
    if (this.#seenIds.size > this.options.rememberIds) {
      this.#seenIds.delete(/** @type {string} */ (this.#seenIds.values().next().value));
    }
  }

  // ---- helpers ------------------------------------------------------------------

  /** @param {ConnectionState} state */
  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    for (const listener of this.#stateListeners) listener(state);
  }

  /** @param {() => void} fn @param {number} ms */
  #schedule(fn, ms) {
    this.#timers.push(setTimeout(fn, ms));
  }

  #clearTimers() {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    if (this.#pongTimer) clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#refreshTimer = null;
  }
}

/**
 * @param {ServerMessage} message
 * @returns {message is ControlMessage}
 */
function isControl(message) {
  return CONTROL.has(message.type);
}

/**
 * @template T
 * @param {Set<T>} set
 * @param {T} item
 * @returns {() => void} removes it again
 */
function addTo(set, item) {
  set.add(item);
  return () => set.delete(item);
}
