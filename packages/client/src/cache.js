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
// the cache without a request. Any held path an event names that this file
// cannot derive from the event's data, or every path when `data` is null (the
// event was too large for one WebSocket message), is fetched again.
//
// Uploads in flight live in one map keyed by operationId whatever their target:
// a library upload and a chapter upload are the same event types in the same
// envelope, told apart only by `target`. The other old fault (library progress
// that never showed) came from the two having different shapes.

/** @typedef {import('./types.js').Chapter} Chapter */
/** @typedef {import('./types.js').Course} Course */
/** @typedef {import('./types.js').MediaFile} MediaFile */
/** @typedef {import('./types.js').EventMediaFile} EventMediaFile */
/** @typedef {import('./types.js').Upload} Upload */
/** @typedef {import('./types.js').UploadTarget} UploadTarget */
/** @typedef {import('./types.js').UploadStatus} UploadStatus */
/** @typedef {import('./types.js').ServerEvent} ServerEvent */
/** @typedef {import('./api.js').ApiClient} ApiClient */

/**
 * What the page needs to draw one upload's progress bar, from whichever source
 * spoke last: the uploader in this tab, or events about any member's upload.
 *
 * @typedef {object} UploadView
 * @property {string} operationId
 * @property {string} filename
 * @property {UploadTarget} target
 * @property {UploadStatus} status
 * @property {number} bytesUploaded
 * @property {number} totalBytes
 * @property {number | null} bytesPerSecond
 * @property {number | null} etaSeconds
 * @property {string | null} userId the uploader, once an event or the API said so
 * @property {string | null} mediaId
 * @property {string | null} reason why it failed or was aborted
 */

const TERMINAL = new Set(['completed', 'failed', 'aborted']);

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
  /** @type {Map<string, UploadView>} */
  #uploads = new Map();
  /** @type {Set<(uploads: UploadView[]) => void>} */
  #uploadListeners = new Set();

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
    return [...this.#uploads.values()];
  }

  /**
   * @param {(uploads: UploadView[]) => void} listener
   * @returns {() => void}
   */
  watchUploads(listener) {
    this.#uploadListeners.add(listener);
    listener(this.uploads());
    return () => this.#uploadListeners.delete(listener);
  }

  // ---- writing ----------------------------------------------------------------

  /**
   * Apply one server event. Returns the held paths it changed or refetched.
   *
   * @param {ServerEvent} event
   * @returns {string[]}
   */
  applyEvent(event) {
    /** @type {Set<string>} paths this event's data accounted for */
    const handled = new Set();
    // `event.data` is read per case so that the type of `event` narrows it.
    switch (event.type) {
      case 'upload.started':
        if (event.data) this.#putUpload(event.data.upload, null, handled);
        break;
      case 'upload.completed':
        if (event.data) {
          this.#putUpload(event.data.upload, null, handled);
          this.#putMedia(event.data.media, handled);
        }
        break;
      case 'upload.failed':
      case 'upload.aborted':
        if (event.data) this.#putUpload(event.data.upload, event.data.reason, handled);
        break;
      case 'upload.progress':
        if (event.data && event.operationId) {
          this.applyProgress(event.operationId, event.data);
          // Progress is transient: no held representation needs a refetch for it.
          handled.add(`/uploads/${event.operationId}`);
        }
        break;
      case 'media.linked':
      case 'media.unlinked':
        if (event.data) {
          this.#putMedia(event.data.media, handled);
          this.#putChapter(event.data.chapter, handled);
        }
        break;
      case 'chapter.updated':
        if (event.data) this.#putChapter(event.data.chapter, handled);
        break;
      default:
        // An event type this client does not know: the resources it names
        // are still right, so the fallback below keeps the cache true.
        break;
    }
    const refetch = (event.resources ?? []).filter(
      (path) => !handled.has(path) && this.#entries.get(path)?.loaded,
    );
    for (const path of refetch) this.load(path).catch(() => {});
    return [...handled].filter((p) => this.#entries.get(p)?.loaded).concat(refetch);
  }

  /**
   * Progress for one upload, from an `upload.progress` event or from the
   * uploader in this tab (which renders before any event could arrive). Never
   * goes backwards, and nothing moves an upload once it has ended.
   *
   * @param {string} operationId
   * @param {{bytesUploaded: number, totalBytes: number, filename: string, target: UploadTarget,
   *          bytesPerSecond?: number | null, etaSeconds?: number | null}} progress
   */
  applyProgress(operationId, progress) {
    const current = this.#uploads.get(operationId);
    if (current && TERMINAL.has(current.status)) return;
    if (current && progress.bytesUploaded < current.bytesUploaded) return;
    this.#uploads.set(operationId, {
      operationId,
      userId: current?.userId ?? null,
      mediaId: current?.mediaId ?? null,
      reason: null,
      status: current?.status ?? 'uploading',
      filename: progress.filename,
      target: progress.target,
      totalBytes: progress.totalBytes,
      bytesUploaded: progress.bytesUploaded,
      bytesPerSecond: progress.bytesPerSecond ?? current?.bytesPerSecond ?? null,
      etaSeconds: progress.etaSeconds ?? null,
    });
    this.#notifyUploads();
  }

  /**
   * Record an upload's state from the API or an event (e.g. `GET
   * /uploads?status=active` after a reload).
   * @param {Upload} upload
   */
  putUpload(upload) {
    this.#putUpload(upload, upload.reason ?? null, new Set());
  }

  /**
   * Record a chapter a REST call answered with (link, unlink, PATCH), so the
   * page shows it before the event about the same change arrives; the event
   * then changes nothing, as its version is not newer.
   * @param {Chapter} chapter
   */
  putChapter(chapter) {
    this.#putChapter(chapter, new Set());
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
    const current = this.#uploads.get(operationId);
    if (!current || TERMINAL.has(current.status)) return;
    this.#uploads.set(operationId, { ...current, status, reason });
    this.#notifyUploads();
  }

  // ---- derivations: how each kind of state lands in the paths that embed it ---

  /**
   * @param {Upload} upload
   * @param {string | null} reason
   * @param {Set<string>} handled
   */
  #putUpload(upload, reason, handled) {
    const current = this.#uploads.get(upload.operationId);
    // A terminal state is final: a late `upload.started` replayed after
    // `upload.completed` must not bring the bar back.
    if (!(current && TERMINAL.has(current.status))) {
      this.#uploads.set(upload.operationId, {
        operationId: upload.operationId,
        filename: upload.filename,
        target: upload.target,
        // A late `upload.started` must not take a completing upload back.
        status: current?.status === 'completing' && upload.status === 'uploading' ? 'completing' : upload.status,
        userId: upload.userId,
        mediaId: upload.mediaId ?? null,
        reason,
        totalBytes: upload.size,
        bytesUploaded: Math.max(upload.bytesUploaded, current?.bytesUploaded ?? 0),
        bytesPerSecond: current?.bytesPerSecond ?? null,
        etaSeconds: current?.etaSeconds ?? null,
      });
      this.#notifyUploads();
    }
    const path = `/uploads/${upload.operationId}`;
    handled.add(path);
    if (this.#entries.get(path)?.loaded) this.#set(path, { ...this.get(path), ...upload });
  }

  /**
   * @param {MediaFile | EventMediaFile} media
   * @param {Set<string>} handled
   */
  #putMedia(media, handled) {
    const one = `/media/${media.mediaId}`;
    handled.add(one);
    const held = this.#entries.get(one);
    if (held?.loaded) {
      // Events omit the short-lived download URL; keep the one we have.
      this.#set(one, { ...media, downloadUrl: media.downloadUrl ?? held.value?.downloadUrl ?? null });
    }
    handled.add('/media');
    const library = this.#entries.get('/media');
    if (!library?.loaded || !library.value) return;
    const items = /** @type {MediaFile[]} */ (library.value.items ?? []);
    const at = items.findIndex((m) => m.mediaId === media.mediaId);
    if (at >= 0) {
      const file = { ...media, downloadUrl: media.downloadUrl ?? items[at].downloadUrl ?? null };
      this.#set('/media', { ...library.value, items: items.with(at, file) });
    } else if (media.userId === this.userId) {
      this.#set('/media', { ...library.value, items: [{ ...media, downloadUrl: media.downloadUrl ?? null }, ...items] });
    }
  }

  /**
   * A chapter appears in three representations: its own path, the course's
   * chapter list and the course. All three are updated from the one chapter
   * the event carries, and only when its version is newer than what is held,
   * so a replayed or duplicated event changes nothing.
   *
   * @param {Chapter} chapter
   * @param {Set<string>} handled
   */
  #putChapter(chapter, handled) {
    const base = `/courses/${chapter.courseId}`;
    const one = `${base}/chapters/${chapter.chapterId}`;
    for (const path of [base, `${base}/chapters`, one]) handled.add(path);

    const held = this.#entries.get(one);
    if (held?.loaded && isNewer(chapter, held.value)) this.#set(one, chapter);

    const list = this.#entries.get(`${base}/chapters`);
    if (list?.loaded && list.value) {
      const chapters = mergeChapter(list.value.chapters ?? [], chapter);
      if (chapters) this.#set(`${base}/chapters`, { ...list.value, chapters });
    }

    const course = this.#entries.get(base);
    if (course?.loaded && course.value) {
      const chapters = mergeChapter(course.value.chapters ?? [], chapter);
      if (chapters) this.#set(base, { ...course.value, chapters });
    }
  }

  // ---- plumbing ---------------------------------------------------------------

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

  #notifyUploads() {
    const uploads = this.uploads();
    for (const listener of this.#uploadListeners) listener(uploads);
  }
}

/**
 * @param {Chapter} incoming
 * @param {Chapter | undefined} held
 */
function isNewer(incoming, held) {
  return !held || incoming.version > held.version;
}

/**
 * The chapter list with `chapter` in it, or null when nothing changes.
 * @param {Chapter[]} chapters
 * @param {Chapter} chapter
 * @returns {Chapter[] | null}
 */
function mergeChapter(chapters, chapter) {
  const at = chapters.findIndex((c) => c.chapterId === chapter.chapterId);
  if (at >= 0) return isNewer(chapter, chapters[at]) ? chapters.with(at, chapter) : null;
  return [...chapters, chapter].sort((a, b) => a.position - b.position);
}
