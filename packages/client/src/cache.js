// A client-side cache keyed by REST path, kept current by server events.
//
// Why keyed by path: every change event names, in `resources`, the REST paths
// whose representation it changed (`/courses/c_1`, `/courses/c_1/chapters`,
// `/media`, ...). When the cache's keys are those same paths, an event can
// never refresh "the wrong query": there is nothing to map, so nothing to get
// wrong. That mapping was the fault that kept linked media invisible until a
// page refresh in the platform this product serves.
//
// Events carry the full new state of what changed (a whole chapter, with its
// items and version; a whole media file; a whole upload), so most events update
// the cache without a request (derive.js says how, for this cache and the
// TanStack Query binding alike). Any held path an event names that it cannot
// derive from the event's data, or every path when `data` is null (the
// event was too large for one WebSocket message), is fetched again.
//
// Uploads in flight live in one map keyed by operationId whatever their target:
// a library upload and a chapter upload are the same event types in the same
// envelope, told apart only by `target`. The other old fault (library progress
// that never showed) came from the two having different shapes.

/** @import { Chapter, Upload, ServerEvent } from './types.js' */
/** @import { ApiClient } from './api.js' */
/** @import { UploadView, ProgressReport } from './uploads.js' */

import { chapterUpdates, derive } from './derive.js';
import { UploadBook } from './uploads.js';

/**
 * @typedef {object} Entry
 * @property {any} value
 * @property {boolean} loaded
 * @property {Set<(value: any) => void>} listeners
 * @property {Promise<any> | null} loading
 * @property {boolean} again another fetch was asked for while one was under way
 * @property {unknown} error
 */

export class ResourceCache {
  /** @type {Map<string, Entry>} */
  #entries = new Map();
  #uploads = new UploadBook();

  /**
   * @param {object} options
   * @param {ApiClient} options.api
   * @param {string} options.userId the signed-in user: `/media` is *their* library,
   *   so another member's media file never enters it, even though events about
   *   it name `/media` too.
   */
  constructor({ api, userId }) {
    this.api = api;
    this.userId = userId;
  }

  // ---- reading ----------------------------------------------------------------

  /**
   * The value held for a path (undefined until loaded).
   * @param {string} path
   */
  get(path) {
    return this.#entries.get(path)?.value;
  }

  /**
   * Call `listener` with the path's value now (if held) and on every change,
   * fetching it first if nobody has. Returns the function that stops watching.
   *
   * @param {string} path
   * @param {(value: any) => void} listener
   * @returns {() => void}
   */
  watch(path, listener) {
    const entry = this.#entry(path);
    entry.listeners.add(listener);
    if (entry.loaded) listener(entry.value);
    else if (!entry.loading) this.load(path).catch(() => {});
    return () => entry.listeners.delete(listener);
  }

  /**
   * Fetch a path (again). Concurrent calls share one request; a call made
   * while a request is under way fetches once more after it, because that
   * request may have been answered before the change that prompted the call.
   *
   * @param {string} path
   * @returns {Promise<any>}
   */
  load(path) {
    const entry = this.#entry(path);
    if (entry.loading) {
      entry.again = true;
      return entry.loading;
    }
    entry.loading = (async () => {
      try {
        do {
          entry.again = false;
          const value = await this.api.get(path);
          entry.error = null;
          this.#set(path, value);
        } while (entry.again);
        return entry.value;
      } catch (err) {
        entry.error = err;
        throw err;
      } finally {
        entry.loading = null;
      }
    })();
    return entry.loading;
  }

  /** Uploads this page knows of, in the order they started. */
  uploads() {
    return this.#uploads.all();
  }

  /**
   * @param {(uploads: UploadView[]) => void} listener
   * @returns {() => void}
   */
  watchUploads(listener) {
    return this.#uploads.watch(listener);
  }

  // ---- writing ----------------------------------------------------------------

  /**
   * Apply one server event. Returns the held paths it changed or refetched.
   *
   * @param {ServerEvent} event
   * @returns {string[]}
   */
  applyEvent(event) {
    const { updates, upload, progress } = derive(event, { userId: this.userId });
    if (upload) this.#uploads.put(upload.upload, upload.reason);
    if (progress) this.#uploads.progress(progress.operationId, progress.progress);
    const changed = this.#apply(updates);
    const refetch = (event.resources ?? []).filter(
      (path) => !updates.has(path) && this.#entries.get(path)?.loaded,
    );
    for (const path of refetch) this.load(path).catch(() => {});
    return changed.concat(refetch);
  }

  /**
   * Progress for one upload, from an `upload.progress` event or from the
   * uploader in this tab (which renders before any event could arrive). Never
   * goes backwards, and nothing moves an upload once it has ended.
   *
   * @param {string} operationId
   * @param {ProgressReport} progress
   */
  applyProgress(operationId, progress) {
    this.#uploads.progress(operationId, progress);
  }

  /**
   * Record an upload's state from the API or an event (e.g. `GET
   * /uploads?status=active` after a reload).
   * @param {Upload} upload
   */
  putUpload(upload) {
    this.#uploads.put(upload, upload.reason ?? null);
    this.#apply(new Map([[`/uploads/${upload.operationId}`, (/** @type {any} */ held) => ({ ...held, ...upload })]]));
  }

  /**
   * Record a chapter a REST call answered with (link, unlink, PATCH), so the
   * page shows it before the event about the same change arrives; the event
   * then changes nothing, as its version is not newer.
   * @param {Chapter} chapter
   */
  putChapter(chapter) {
    this.#apply(chapterUpdates(chapter));
  }

  /**
   * Record what this tab's uploader knows before any event says it: S3 has
   * every part (`completing`), or the upload was given up on (`failed`,
   * `aborted`: its bar should not wait for an event that will not come).
   * A terminal status is never changed.
   * @param {string} operationId
   * @param {'completing' | 'failed' | 'aborted'} status
   * @param {string | null} [reason]
   */
  setUploadStatus(operationId, status, reason = null) {
    this.#uploads.status(operationId, status, reason);
  }

  // ---- plumbing ---------------------------------------------------------------

  /**
   * Each held path's new value; the paths held (changed or not) are returned.
   * @param {Map<string, import('./derive.js').Update>} updates
   */
  #apply(updates) {
    const held = [];
    for (const [path, update] of updates) {
      const entry = this.#entries.get(path);
      if (!entry?.loaded) continue;
      held.push(path);
      const value = update(entry.value);
      if (value !== entry.value) this.#set(path, value);
    }
    return held;
  }

  /** @param {string} path */
  #entry(path) {
    let entry = this.#entries.get(path);
    if (!entry) {
      entry = { value: undefined, loaded: false, listeners: new Set(), loading: null, again: false, error: null };
      this.#entries.set(path, entry);
    }
    return entry;
  }

  /** @param {string} path @param {any} value */
  #set(path, value) {
    const entry = this.#entry(path);
    entry.value = value;
    entry.loaded = true;
    for (const listener of entry.listeners) listener(value);
  }
}
