// Test doubles for the client modules: a scripted REST API behind a fake
// fetch, an in-memory S3 for part PUTs, a WebSocket the test drives by hand.

import { ApiClient } from '../src/api.js';

/**
 * A fake API: `routes['POST /uploads'] = (body, path) => [status, json]`.
 * Every call is recorded in `calls` as `{method, path, body}`.
 */
export function fakeApi(routes) {
  const calls = [];
  const fetch = async (url, init) => {
    const path = url.replace(/^\/api/, '');
    const body = init.body ? JSON.parse(init.body) : undefined;
    calls.push({ method: init.method, path, body });
    const key = Object.keys(routes).find((k) => {
      const [method, pattern] = k.split(' ');
      return method === init.method && new RegExp(`^${pattern}$`).test(path.split('?')[0]);
    });
    if (!key) return new Response(JSON.stringify({ error: { code: 'not_found', message: path } }), { status: 404 });
    const [status, doc] = await routes[key](body, path);
    return new Response(doc === undefined ? '' : JSON.stringify(doc), { status });
  };
  return { api: new ApiClient({ baseUrl: '/api', token: () => 'tok', fetch }), calls };
}

/** A Map-backed stand-in for localStorage. */
export class MemoryStorage {
  map = new Map();
  get length() {
    return this.map.size;
  }
  key(i) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

/** A controllable WebSocket: tests call `serverSend`, read `sent`, `drop()` it. */
export class FakeWebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 3;
  /** @type {FakeWebSocket[]} */
  static instances = [];

  constructor(url) {
    this.url = url;
    this.readyState = FakeWebSocket.CONNECTING;
    this.sent = [];
    FakeWebSocket.instances.push(this);
    queueMicrotask(() => {
      if (this.readyState !== FakeWebSocket.CONNECTING) return;
      this.readyState = FakeWebSocket.OPEN;
      this.onopen?.();
    });
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  close() {
    if (this.readyState === FakeWebSocket.CLOSED) return;
    this.readyState = FakeWebSocket.CLOSED;
    queueMicrotask(() => this.onclose?.({ code: 1000 }));
  }
  /** The server side drops the connection. */
  drop() {
    this.close();
  }
  serverSend(message) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
  static reset() {
    FakeWebSocket.instances = [];
  }
  static get last() {
    return FakeWebSocket.instances.at(-1);
  }
}

let counter = 0;
/** An event envelope as the server sends it. */
export function envelope(type, { channel = 'course:c_1', seq = null, id = `evt_${++counter}`, data = {}, resources = [], operationId = null, courseId = null } = {}) {
  return { v: 1, id, type, channel, seq, at: new Date().toISOString(), operationId, courseId, data, resources };
}

export const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

/** Wait until `predicate()` holds, polling briefly. */
export async function until(predicate, timeoutMs = 2000) {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not reached in time');
    await tick(2);
  }
}

// Wire objects as the API sends them, for the cache's and the binding's tests.
export const T0 = '2026-11-21T10:00:00.000Z';

export function chapter(version, items = []) {
  return { courseId: 'c_1', chapterId: 'ch_1', title: 'Intro', position: 0, version, items, createdAt: T0, updatedAt: T0 };
}
export function item(mediaId) {
  return { mediaId, filename: `${mediaId}.mp4`, contentType: 'video/mp4', size: 1, addedAt: T0, addedBy: 'ana' };
}
export function media(mediaId, userId = 'ana') {
  return { mediaId, userId, filename: `${mediaId}.mp4`, contentType: 'video/mp4', size: 1, key: 'k', operationId: null, createdAt: T0, links: [] };
}
