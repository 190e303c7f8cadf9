import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';

import { RealtimeClient, tokenExpiry } from '../src/realtime.js';
import { FakeWebSocket, envelope, tick, until } from './fakes.js';

function client(options = {}) {
  const rt = new RealtimeClient({
    url: 'ws://stack/ws',
    token: () => 'tok en',
    WebSocket: /** @type {any} */ (FakeWebSocket),
    backoff: { baseMs: 1, maxMs: 2 },
    ...options,
  });
  const events = [];
  rt.onEvent((e) => events.push(e));
  return { rt, events };
}

const subscribed = (channel, seq) => envelope('subscribed', { channel: null, data: { channel, seq } });
const durable = (channel, seq, extra = {}) => envelope('chapter.updated', { channel, seq, ...extra });

async function connected(options) {
  const c = client(options);
  c.rt.connect();
  await until(() => c.rt.state === 'open');
  return { ...c, socket: FakeWebSocket.last };
}

describe('RealtimeClient', () => {
  beforeEach(() => FakeWebSocket.reset());
  let rt;
  afterEach(() => rt?.close());

  it('connects with the token in the query string and subscribes the channels asked for', async () => {
    const c = client();
    rt = c.rt;
    c.rt.subscribe('course:c_1');
    c.rt.connect();
    await until(() => c.rt.state === 'open');
    assert.equal(FakeWebSocket.last.url, 'ws://stack/ws?token=tok%20en');
    assert.deepEqual(FakeWebSocket.last.sent, [{ action: 'subscribe', channel: 'course:c_1' }]);
  });

  it('delivers an event published to two channels once, by id', async () => {
    const c = await connected();
    rt = c.rt;
    c.socket.serverSend(durable('user:ana', 4, { id: 'evt_same' }));
    c.socket.serverSend(durable('course:c_1', 9, { id: 'evt_same' }));
    assert.equal(c.events.length, 1);
    assert.equal(c.rt.lastSeq('course:c_1'), 9);
    assert.equal(c.rt.lastSeq('user:ana'), 4);
  });

  it('drops a durable event whose seq it has already seen', async () => {
    const c = await connected();
    rt = c.rt;
    c.socket.serverSend(durable('course:c_1', 3));
    c.socket.serverSend(durable('course:c_1', 3));
    assert.equal(c.events.length, 1);
  });

  it('passes transient events (no seq) straight through', async () => {
    const c = await connected();
    rt = c.rt;
    for (let i = 0; i < 3; i++) c.socket.serverSend(envelope('upload.progress', { seq: null }));
    assert.equal(c.events.length, 3);
  });

  it('subscribes again with since = the last seq seen after the connection drops', async () => {
    const c = client();
    rt = c.rt;
    c.rt.subscribe('course:c_1');
    c.rt.connect();
    await until(() => c.rt.state === 'open');
    const first = FakeWebSocket.last;
    first.serverSend(subscribed('course:c_1', 40));
    first.serverSend(durable('course:c_1', 41));
    const states = [];
    c.rt.onState((s) => states.push(s));
    first.drop();
    await until(() => FakeWebSocket.instances.length === 2 && c.rt.state === 'open');
    assert.deepEqual(FakeWebSocket.last.sent, [{ action: 'subscribe', channel: 'course:c_1', since: 41 }]);
    assert.deepEqual(states, ['open', 'reconnecting', 'open']);
  });

  it('asks for a replay when a seq is missing, and delivers the replay in order', async () => {
    const c = await connected();
    rt = c.rt;
    c.rt.subscribe('course:c_1');
    c.socket.serverSend(subscribed('course:c_1', 10));
    c.socket.serverSend(durable('course:c_1', 12, { id: 'e12' }));
    assert.deepEqual(c.socket.sent.at(-1), { action: 'subscribe', channel: 'course:c_1', since: 10 });
    c.socket.serverSend(subscribed('course:c_1', 12));
    c.socket.serverSend(durable('course:c_1', 11, { id: 'e11' }));
    c.socket.serverSend(durable('course:c_1', 12, { id: 'e12' }));
    assert.deepEqual(c.events.map((e) => e.id), ['e11', 'e12']);
  });

  it('asks again for what arrived live before the replay\'s reply and lies past it', async () => {
    const c = await connected();
    rt = c.rt;
    c.rt.subscribe('course:c_1');
    c.socket.serverSend(subscribed('course:c_1', 10));
    c.socket.serverSend(durable('course:c_1', 12, { id: 'e12' }));
    // 13 is published after the server read the channel's seq (12) for the
    // replay, and its post overtakes the reply: dropped while waiting.
    c.socket.serverSend(durable('course:c_1', 13, { id: 'e13' }));
    c.socket.serverSend(subscribed('course:c_1', 12));
    c.socket.serverSend(durable('course:c_1', 11, { id: 'e11' }));
    c.socket.serverSend(durable('course:c_1', 12, { id: 'e12' }));
    assert.deepEqual(c.socket.sent.at(-1), { action: 'subscribe', channel: 'course:c_1', since: 12 });
    c.socket.serverSend(subscribed('course:c_1', 13));
    c.socket.serverSend(durable('course:c_1', 13, { id: 'e13' }));
    assert.deepEqual(c.events.map((e) => e.id), ['e11', 'e12', 'e13']);
  });

  it('reports a channel to refetch when the server\'s sequence restarted', async () => {
    const c = await connected();
    rt = c.rt;
    const resyncs = [];
    c.rt.onResync((ch) => resyncs.push(ch));
    c.rt.subscribe('course:c_1');
    c.socket.serverSend(subscribed('course:c_1', 50));
    c.socket.drop();
    await until(() => FakeWebSocket.instances.length === 2 && c.rt.state === 'open');
    FakeWebSocket.last.serverSend(subscribed('course:c_1', 2));
    assert.deepEqual(resyncs, ['course:c_1']);
    FakeWebSocket.last.serverSend(durable('course:c_1', 3));
    assert.equal(c.events.length, 1);
  });

  it('keeps events that overtook the reply to a resubscribe, and never holds them twice', async () => {
    const c = await connected();
    rt = c.rt;
    const resyncs = [];
    c.rt.onResync((ch) => resyncs.push(ch));
    c.rt.subscribe('course:c_1');
    c.socket.serverSend(subscribed('course:c_1', 40));
    c.socket.drop();
    await until(() => FakeWebSocket.instances.length === 2 && c.rt.state === 'open');
    const socket = FakeWebSocket.last;
    assert.deepEqual(socket.sent.at(-1), { action: 'subscribe', channel: 'course:c_1', since: 40 });
    // The server read seq 40 for its reply; seq 41, delivered meanwhile, arrives first.
    socket.serverSend(durable('course:c_1', 41, { id: 'e41' }));
    socket.serverSend(subscribed('course:c_1', 40));
    socket.serverSend(durable('course:c_1', 42, { id: 'e42' }));
    assert.deepEqual(resyncs, []);
    assert.deepEqual(c.events.map((e) => e.id), ['e41', 'e42']);
    // Nothing to ask again for: no replay from 40 that would bring e41 a second time.
    assert.equal(socket.sent.filter((m) => m.action === 'subscribe').length, 1);
  });

  it('pings within the idle limit', async () => {
    const c = await connected({ pingIntervalMs: 20 });
    rt = c.rt;
    await until(() => c.socket.sent.some((m) => m.action === 'ping'));
  });

  it('treats an unanswered ping as a dead connection and reconnects', async () => {
    const c = await connected({ pingIntervalMs: 10, pongTimeoutMs: 10 });
    rt = c.rt;
    await until(() => FakeWebSocket.instances.length >= 2);
    assert.equal(c.socket.readyState, FakeWebSocket.CLOSED);
  });

  it('reconnects on its own before the connection age limit, resuming from the last seq', async () => {
    const c = client({ maxConnectionMs: 40 });
    rt = c.rt;
    c.rt.subscribe('course:c_1');
    c.rt.connect();
    await until(() => c.rt.state === 'open');
    FakeWebSocket.last.serverSend(subscribed('course:c_1', 7));
    await until(() => FakeWebSocket.instances.length === 2 && c.rt.state === 'open');
    assert.equal(FakeWebSocket.instances[0].readyState, FakeWebSocket.CLOSED);
    assert.deepEqual(FakeWebSocket.last.sent[0], { action: 'subscribe', channel: 'course:c_1', since: 7 });
  });

  it('stays closed after close()', async () => {
    const c = await connected();
    rt = c.rt;
    c.rt.close();
    await tick(20);
    assert.equal(FakeWebSocket.instances.length, 1);
    assert.equal(c.rt.state, 'closed');
  });

  it('asks for a fresh token on every reconnect', async () => {
    let n = 0;
    const c = client({ token: () => `t${++n}` });
    rt = c.rt;
    c.rt.connect();
    await until(() => c.rt.state === 'open');
    FakeWebSocket.last.drop();
    await until(() => FakeWebSocket.instances.length === 2);
    assert.deepEqual(FakeWebSocket.instances.map((s) => s.url), ['ws://stack/ws?token=t1', 'ws://stack/ws?token=t2']);
  });
});

describe('RealtimeClient user channel', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('asks the user channel it was joined to automatically for a replay after a reconnect', async () => {
    const { rt, socket } = await connected();
    socket.serverSend(durable('user:ana', 5));
    socket.drop();
    await until(() => FakeWebSocket.instances.length === 2 && rt.state === 'open');
    assert.deepEqual(FakeWebSocket.last.sent, [{ action: 'subscribe', channel: 'user:ana', since: 5 }]);
    rt.close();
  });
});

describe('RealtimeClient without a token', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('keeps trying while the token cannot be had, then connects', async () => {
    let calls = 0;
    const { rt } = client({
      token: () => {
        if (++calls < 3) throw new Error('signed out');
        return 'late';
      },
    });
    rt.connect();
    await until(() => rt.state === 'open');
    assert.equal(calls, 3);
    assert.equal(FakeWebSocket.last.url, 'ws://stack/ws?token=late');
    rt.close();
  });
});

describe('RealtimeClient coming back online', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('reconnects at once when the browser is back online instead of sitting out its backoff', async () => {
    const browser = new EventTarget();
    const { rt } = client({ backoff: { baseMs: 60_000, maxMs: 60_000 }, connectivity: browser });
    rt.connect();
    await until(() => rt.state === 'open');
    FakeWebSocket.last.drop();
    await until(() => rt.state === 'reconnecting');
    await tick(5);
    // Backoff is random in [0, 60 s): without the event this would likely still wait.
    browser.dispatchEvent(new Event('online'));
    await until(() => FakeWebSocket.instances.length === 2 && rt.state === 'open', 500);
    rt.close();
  });
});

describe('RealtimeClient with an incomplete replay', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('starts from the present and asks for a refetch when the server says the replay is incomplete', async () => {
    const { rt, events, socket } = await connected();
    const resyncs = [];
    rt.onResync((ch) => resyncs.push(ch));
    rt.subscribe('course:c_1');
    socket.serverSend(subscribed('course:c_1', 10));
    // Seq 11 was never stored (a failed publish): 12 shows a gap.
    socket.serverSend(durable('course:c_1', 12, { id: 'e12' }));
    assert.deepEqual(socket.sent.at(-1), { action: 'subscribe', channel: 'course:c_1', since: 10 });
    socket.serverSend(envelope('subscribed', { channel: null, data: { channel: 'course:c_1', seq: 12, replayComplete: false } }));
    socket.serverSend(durable('course:c_1', 12, { id: 'e12' }));
    socket.serverSend(durable('course:c_1', 13, { id: 'e13' }));
    assert.deepEqual(resyncs, ['course:c_1']);
    assert.deepEqual(events.map((e) => e.id), ['e13']);
    assert.equal(socket.sent.filter((m) => m.action === 'subscribe').length, 2);
    rt.close();
  });
});

/** A JWT-shaped token expiring `inMs` from now (the client reads, never verifies, it). */
function jwtExpiringIn(inMs, sub = 'ana') {
  const part = (o) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${part({ alg: 'HS256' })}.${part({ sub, exp: (Date.now() + inMs) / 1000 })}.sig`;
}

describe('RealtimeClient when its token expires', () => {
  beforeEach(() => FakeWebSocket.reset());

  it('reads the expiry of a token without verifying it', () => {
    const token = jwtExpiringIn(60_000);
    const expiry = tokenExpiry(token);
    assert.ok(expiry !== null && Math.abs(expiry - (Date.now() + 60_000)) < 1_000);
    assert.equal(tokenExpiry('not a jwt'), null);
  });

  it('presents a fresh token on the same connection before the current one expires', async () => {
    const tokens = [jwtExpiringIn(1_500), jwtExpiringIn(3_600_000)];
    const { rt, socket } = await connected({ token: () => tokens.shift(), refreshBeforeMs: 1_000 });
    rt.subscribe('course:c_1');
    socket.serverSend(subscribed('course:c_1', 4));
    await until(() => socket.sent.some((m) => m.action === 'authenticate'), 3_000);
    const presented = socket.sent.find((m) => m.action === 'authenticate');
    socket.serverSend(envelope('authenticated', { channel: null, data: { expiresAt: 'x' } }));
    assert.equal(FakeWebSocket.instances.length, 1);
    assert.equal(tokenExpiry(presented.token) > Date.now() + 3_000_000, true);
    // Renewed in time: nothing was missed, so nothing is asked again.
    assert.equal(socket.sent.filter((m) => m.action === 'subscribe').length, 1);
    rt.close();
  });

  it('renews at once after a token_expired refusal and replays the channels with since', async () => {
    const tokens = [jwtExpiringIn(3_600_000), jwtExpiringIn(7_200_000)];
    const { rt, socket, events } = await connected({ token: () => tokens.shift() });
    rt.subscribe('course:c_1');
    socket.serverSend(subscribed('course:c_1', 40));
    socket.serverSend(durable('course:c_1', 41, { id: 'e41' }));
    // The laptop slept through the planned renewal.
    socket.serverSend(envelope('error', { channel: null, data: { code: 'token_expired', message: '' } }));
    await until(() => socket.sent.some((m) => m.action === 'authenticate'));
    socket.serverSend(envelope('authenticated', { channel: null, data: { expiresAt: 'x' } }));
    assert.deepEqual(socket.sent.at(-1), { action: 'subscribe', channel: 'course:c_1', since: 41 });
    socket.serverSend(subscribed('course:c_1', 42));
    socket.serverSend(durable('course:c_1', 42, { id: 'e42' }));
    assert.deepEqual(events.map((e) => e.id), ['e41', 'e42']);
    assert.equal(FakeWebSocket.instances.length, 1);
    rt.close();
  });

  it('reconnects with since when the fresh token cannot renew this connection', async () => {
    const tokens = [jwtExpiringIn(3_600_000, 'ana'), jwtExpiringIn(3_600_000, 'ben'), jwtExpiringIn(3_600_000, 'ben')];
    const { rt, socket } = await connected({ token: () => tokens.shift() });
    rt.subscribe('course:c_1');
    socket.serverSend(subscribed('course:c_1', 7));
    socket.serverSend(envelope('error', { channel: null, data: { code: 'token_expired', message: '' } }));
    await until(() => socket.sent.some((m) => m.action === 'authenticate'));
    socket.serverSend(envelope('error', { channel: null, data: { code: 'token_subject_mismatch', message: '' } }));
    await until(() => FakeWebSocket.instances.length === 2 && rt.state === 'open');
    assert.deepEqual(FakeWebSocket.last.sent, [{ action: 'subscribe', channel: 'course:c_1', since: 7 }]);
    rt.close();
  });
});
