// TanStack Query, kept current by course-media's events.
//
// The platform this product serves lost linked media until a reload because
// its WebSocket handler invalidated ['courses', 'detail', id] while the page
// read chapters from ['chapters', 'list', id]: each handler guessed which
// queries an event touched. Here nothing is guessed. Every event names, in
// `resources`, the REST paths it changed, and you say once which query key
// holds which REST path (`routes`; by default a path's segments,
// `/courses/c_1/chapters` -> ['courses', 'c_1', 'chapters']). Then every event:
// - sets the full new state it carries into each query that holds one of its
//   paths (`setQueryData`, no request), using the same derivation as
//   ResourceCache (derive.js): a chapter into the course, the chapter list and
//   the chapter; a media file into the library and the file;
// - invalidates the queries of the paths it names but cannot set (an event
//   type this client does not know, or `data` null for an event too large for
//   one WebSocket message);
// - is applied once: repeats (one event reaches `user:` and `course:`, and
//   replays repeat) are dropped by the envelope's `id`;
// - and when a channel's events cannot all be delivered (a gap in its `seq`s,
//   or a replay answered `replayComplete: false`), every query of that
//   channel is invalidated, so nothing stays stale silently.
//
// Uploads in flight, library and chapter uploads alike, are kept in one map
// keyed by operationId, in the QueryClient under `uploadsKey`, where any list
// can read an item's progress by its operationId.

/** @import { QueryClient, QueryKey } from '@tanstack/query-core' */
/** @import { ControlMessage, ServerEvent, ServerMessage, Upload } from './types.js' */
/** @import { ProgressReport } from './uploads.js' */
/** @import { RealtimeClient } from './realtime.js' */

import { chapterUpdates, derive } from './derive.js';
import { UploadBook } from './uploads.js';

/**
 * REST path templates (as in docs/openapi.json) -> query key templates, where
 * a `{name}` element stands for that path parameter:
 * `{'/courses/{courseId}/chapters': ['chapters', 'list', '{courseId}']}`.
 * @typedef {Record<string, readonly unknown[]>} Routes
 */

/**
 * @typedef {object} BindingOptions
 * @property {QueryClient} queryClient
 * @property {string} userId the signed-in user (the token's `sub`): `/media` is
 *   their library, so another member's media file never enters it
 * @property {Routes} [routes] which query key holds which REST path; paths not
 *   listed use their segments
 * @property {QueryKey} [uploadsKey] where the uploads map lives in the QueryClient
 * @property {number} [rememberIds] how many event ids to remember for dropping repeats
 */

/** The key of the uploads map, `Record<operationId, UploadView>`, unless `uploadsKey` says otherwise. */
export const UPLOADS_KEY = Object.freeze(['@course-media/client', 'uploads']);

// The API's path roots: a query key of default shape is this API's only if it
// starts with one of them, so a resync never touches an app's other queries.
const API_ROOTS = new Set(['courses', 'media', 'uploads']);

export class QueryBinding {
  /** @type {{segments: string[], key: readonly unknown[]}[]} */
  #routes;
  #book = new UploadBook();
  /** @type {Set<string>} */
  #seenIds = new Set();
  /** @type {Map<string, number>} the last seq applied per channel */
  #lastSeq = new Map();

  /** @param {BindingOptions} options */
  constructor({ queryClient, userId, routes = {}, uploadsKey = UPLOADS_KEY, rememberIds = 2_000 }) {
    this.queryClient = queryClient;
    this.userId = userId;
    this.uploadsKey = uploadsKey;
    this.rememberIds = rememberIds;
    this.#routes = Object.entries(routes).map(([path, key]) => ({ segments: segmentsOf(path), key }));
    this.#book.watch((uploads) => {
      this.queryClient.setQueryData(this.uploadsKey, Object.fromEntries(uploads.map((u) => [u.operationId, u])));
    });
  }

  // ---- keys ---------------------------------------------------------------------

  /**
   * The query key that holds a REST path.
   * @param {string} path e.g. `/courses/c_1/chapters`
   * @returns {readonly unknown[]}
   */
  queryKey(path) {
    const segments = segmentsOf(path);
    for (const route of this.#routes) {
      const params = match(route.segments, segments);
      if (params) return route.key.map((part) => (isPlaceholder(part) ? params[part.slice(1, -1)] : part));
    }
    return segments;
  }

  /**
   * The REST path a query key holds, or null when it is not this API's.
   * @param {readonly unknown[]} key
   * @returns {string | null}
   */
  pathOf(key) {
    for (const route of this.#routes) {
      const params = matchKey(route.key, key);
      if (params) {
        return `/${route.segments.map((s) => (isPlaceholder(s) ? params[s.slice(1, -1)] : s)).join('/')}`;
      }
    }
    if (key.length === 0 || !key.every((part) => typeof part === 'string')) return null;
    if (!API_ROOTS.has(/** @type {string} */ (key[0]))) return null;
    // A key a route claims is that route's, even when it has the default shape too.
    const path = `/${key.join('/')}`;
    return this.#routes.some((route) => match(route.segments, segmentsOf(path))) ? null : path;
  }

  // ---- events -------------------------------------------------------------------

  /**
   * Every event and resync of a RealtimeClient from now on (it drops repeats
   * and repairs gaps itself; this binding checks again, so any source works).
   * The first `subscribed` reply of each channel invalidates its queries once:
   * what they hold may have been fetched before a change the subscription
   * came too late to hear about.
   * @param {RealtimeClient} realtime
   * @returns {() => void} stops listening
   */
  connect(realtime) {
    /** @type {Set<string>} */
    const subscribed = new Set();
    /** @param {string} channel */
    const resync = (channel) => {
      // The client goes on from the server's present seq: so does the gap check.
      this.#lastSeq.delete(channel);
      this.resync(channel);
    };
    const stops = [
      realtime.onEvent((event) => this.applyEvent(event)),
      realtime.onResync(resync),
      realtime.onControl((message) => {
        if (message.type !== 'subscribed' || !message.data || subscribed.has(message.data.channel)) return;
        subscribed.add(message.data.channel);
        this.resync(message.data.channel);
      }),
    ];
    return () => stops.forEach((stop) => stop());
  }

  /**
   * Any message from the server, for a page that runs its own WebSocket:
   * events go to applyEvent, and a `subscribed` reply with
   * `replayComplete: false` (the missed events cannot all be replayed)
   * invalidates that channel's queries.
   * @param {ServerMessage} message
   */
  applyMessage(message) {
    if (isControl(message)) {
      if (message.type === 'subscribed' && message.data?.replayComplete === false) {
        this.#lastSeq.set(message.data.channel, message.data.seq);
        this.resync(message.data.channel);
      }
      return;
    }
    this.applyEvent(message);
  }

  /**
   * Apply one event: set what it carries, invalidate what it names but cannot
   * set. Returns false for a repeat (by id) or an old seq, which change nothing.
   * @param {ServerEvent} event
   * @returns {boolean}
   */
  applyEvent(event) {
    if (this.#seenIds.has(event.id) || !this.#inOrder(event)) return false;
    this.#remember(event.id);
    const { updates, upload, progress } = derive(event, { userId: this.userId });
    if (upload) this.#book.put(upload.upload, upload.reason);
    if (progress) this.#book.progress(progress.operationId, progress.progress);
    this.#apply(updates);
    for (const path of event.resources ?? []) {
      if (!updates.has(path)) {
        this.queryClient.invalidateQueries({ queryKey: this.queryKey(path), exact: true }).catch(() => {});
      }
    }
    return true;
  }

  /**
   * Invalidate every query of a channel: `course:{id}` holds the course and
   * everything under `/courses/{id}`; `user:{id}` the library (`/media...`),
   * the uploads (`/uploads...`) and the course list.
   * @param {string} channel
   */
  resync(channel) {
    const [scope, id] = splitChannel(channel);
    /** @param {string} path */
    const inChannel = (path) => {
      if (scope === 'course') return path === `/courses/${id}` || path.startsWith(`/courses/${id}/`);
      if (scope === 'user') return path === '/courses' || /^\/(media|uploads)(\/|$)/.test(path);
      return false;
    };
    this.queryClient
      .invalidateQueries({
        predicate: (query) => {
          const path = this.pathOf(query.queryKey);
          return path !== null && inChannel(path);
        },
      })
      .catch(() => {});
  }

  /**
   * A chapter a REST call answered with (link, unlink, PATCH), into every
   * query that holds it; the event about the same change then sets nothing,
   * its version not being newer.
   * @param {import('./types.js').Chapter} chapter
   */
  putChapter(chapter) {
    this.#apply(chapterUpdates(chapter));
  }

  // ---- uploads ------------------------------------------------------------------

  /** Every upload known, in the order they started. */
  uploads() {
    return this.#book.all();
  }

  /** @param {string} operationId */
  upload(operationId) {
    return this.#book.get(operationId);
  }

  /**
   * Progress from this tab's uploader, which renders before any event could
   * arrive. Never backwards, never after the upload ended.
   * @param {string} operationId
   * @param {ProgressReport} progress
   */
  applyProgress(operationId, progress) {
    this.#book.progress(operationId, progress);
  }

  /**
   * An upload's state from the API, e.g. `GET /uploads?status=active` after a reload.
   * @param {Upload} upload
   */
  putUpload(upload) {
    this.#book.put(upload, upload.reason ?? null);
  }

  /**
   * What this tab's uploader knows first: `completing`, `failed`, `aborted`.
   * @param {string} operationId
   * @param {'completing' | 'failed' | 'aborted'} status
   * @param {string | null} [reason]
   */
  setUploadStatus(operationId, status, reason = null) {
    this.#book.status(operationId, status, reason);
  }

  // ---- plumbing -----------------------------------------------------------------

  /** @param {Map<string, import('./derive.js').Update>} updates */
  #apply(updates) {
    for (const [path, update] of updates) {
      const key = this.queryKey(path);
      if (this.queryClient.getQueryData(key) === undefined) continue;
      this.queryClient.setQueryData(key, (/** @type {unknown} */ held) => (held === undefined ? held : update(held)));
    }
  }

  /**
   * Durable events come in seq order per channel. An old seq is a repeat; a
   * seq past the next one means events were lost: that channel's queries
   * are invalidated (a RealtimeClient repairs gaps before they reach here).
   * @param {ServerEvent} event
   */
  #inOrder(event) {
    if (event.seq == null || !event.channel) return true;
    const last = this.#lastSeq.get(event.channel);
    if (last !== undefined && event.seq <= last) return false;
    this.#lastSeq.set(event.channel, event.seq);
    if (last !== undefined && event.seq > last + 1) this.resync(event.channel);
    return true;
  }

  /** @param {string} id */
  #remember(id) {
    this.#seenIds.add(id);
    if (this.#seenIds.size > this.rememberIds) {
      this.#seenIds.delete(/** @type {string} */ (this.#seenIds.values().next().value));
    }
  }
}

/** @param {string} path */
function segmentsOf(path) {
  return path.split('?')[0].split('/').filter(Boolean).map(decodeURIComponent);
}

/** @param {unknown} part @returns {part is string} */
function isPlaceholder(part) {
  return typeof part === 'string' && part.length > 2 && part.startsWith('{') && part.endsWith('}');
}

/**
 * The path parameters when `segments` fits the template, else null.
 * @param {string[]} template
 * @param {string[]} segments
 * @returns {Record<string, string> | null}
 */
function match(template, segments) {
  if (template.length !== segments.length) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i < template.length; i++) {
    if (isPlaceholder(template[i])) params[template[i].slice(1, -1)] = segments[i];
    else if (template[i] !== segments[i]) return null;
  }
  return params;
}

/**
 * @param {readonly unknown[]} template
 * @param {readonly unknown[]} key
 * @returns {Record<string, string> | null}
 */
function matchKey(template, key) {
  if (template.length !== key.length) return null;
  /** @type {Record<string, string>} */
  const params = {};
  for (let i = 0; i < template.length; i++) {
    const part = template[i];
    if (isPlaceholder(part)) {
      if (typeof key[i] !== 'string') return null;
      params[part.slice(1, -1)] = /** @type {string} */ (key[i]);
    } else if (part !== key[i]) return null;
  }
  return params;
}

/** @param {string} channel @returns {[string, string]} */
function splitChannel(channel) {
  const at = channel.indexOf(':');
  return at < 0 ? [channel, ''] : [channel.slice(0, at), channel.slice(at + 1)];
}

/**
 * @param {ServerMessage} message
 * @returns {message is ControlMessage}
 */
function isControl(message) {
  return ['subscribed', 'unsubscribed', 'pong', 'authenticated', 'error'].includes(message.type);
}
