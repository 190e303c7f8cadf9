// Multipart uploads straight to S3 through presigned URLs.
//
// The API never sees the bytes: it opens the multipart upload, signs part URLs
// in batches and completes the upload; the browser PUTs each part to S3 itself.
// Everything here exists because real networks are unreliable and real users
// reload pages:
// - parts go up in parallel, but a bounded number at a time, so one upload
//   neither starves the page nor opens dozens of sockets;
// - a failed part is retried with exponential backoff and jitter, alone: the
//   parts already in S3 stay there;
// - presigned URLs are short-lived (they die with the credentials that signed
//   them), so a URL close to expiry, or one S3 refuses with 403, is signed again;
// - after a reload, choosing the same file continues the open upload: the
//   server lists the parts S3 holds and only the missing ones are sent;
// - progress renders locally on every browser progress event, but is reported
//   to the API at most twice a second (the server broadcasts at most 4/s anyway).

import { ApiError } from './api.js';
import { backoffDelay, sleep } from './backoff.js';

/** @typedef {import('./types.js').Upload} Upload */
/** @typedef {import('./types.js').UploadPart} UploadPart */
/** @typedef {import('./types.js').UploadTarget} UploadTarget */
/** @typedef {import('./api.js').ApiClient} ApiClient */

/**
 * @typedef {object} Progress
 * @property {number} bytesUploaded
 * @property {number} totalBytes
 * @property {number} percent 0..100
 * @property {number | null} bytesPerSecond measured over this page's session
 * @property {number | null} etaSeconds at that rate
 *
 * @typedef {'preparing' | 'uploading' | 'completing' | 'aborted' | 'failed'} TaskState
 *
 * @typedef {object} PutResult
 * @property {number} status HTTP status; 0 when the request never got a response
 * @property {string | null} etag
 *
 * @typedef {(url: string, body: Blob, options: {signal: AbortSignal, onProgress: (loaded: number) => void}) => Promise<PutResult>} PutPart
 *
 * @typedef {object} UploaderOptions
 * @property {ApiClient} api
 * @property {number} [concurrency] parts in flight at once per upload
 * @property {number} [maxAttempts] tries per part (and per API call) before the upload fails
 * @property {number} [reportIntervalMs] minimum time between progress reports to the API
 * @property {number} [presignBatch] part URLs requested per signing call
 * @property {number} [expiryMarginMs] a URL expiring sooner than this is signed again before use
 * @property {{baseMs?: number, maxMs?: number}} [backoff]
 * @property {PutPart} [putPart] how a part reaches S3 (XMLHttpRequest in browsers)
 * @property {Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> | null} [storage]
 *   where resume fingerprints live (localStorage by default)
 * @property {() => number} [now]
 */

const STORAGE_PREFIX = 'course-media.upload.';

export class Uploader {
  /** @param {UploaderOptions} options */
  constructor({
    api,
    concurrency = 4,
    maxAttempts = 6,
    reportIntervalMs = 500,
    presignBatch = 10,
    expiryMarginMs = 30_000,
    backoff = {},
    putPart = xhrPutPart,
    storage = globalThis.localStorage ?? null,
    now = Date.now,
  }) {
    this.api = api;
    this.options = { concurrency, maxAttempts, reportIntervalMs, presignBatch, expiryMarginMs, backoff };
    this.putPart = putPart;
    this.storage = storage;
    this.now = now;
  }

  /**
   * Upload a file, or continue an open upload of the same file to the same
   * target (same name, size and last-modified time) left by an earlier page.
   *
   * @param {File} file
   * @param {UploadTarget} target
   * @param {{onProgress?: (p: Progress) => void, onState?: (s: TaskState) => void}} [callbacks]
   * @returns {UploadTask}
   */
  upload(file, target, callbacks = {}) {
    const task = new UploadTask(this, file, target, callbacks);
    task.start();
    return task;
  }

  /**
   * The caller's open uploads that this browser can continue, each with the
   * file it expects. A page shows these after a reload ("choose video.mp4
   * again to continue"); `upload()` with that file then resumes.
   *
   * @returns {Promise<{upload: Upload, file: Fingerprint}[]>}
   */
  async resumable() {
    const { uploads = [] } = (await this.api.get('/uploads?status=active')) ?? {};
    /** @type {{upload: Upload, file: Fingerprint}[]} */
    const found = [];
    for (const upload of /** @type {Upload[]} */ (uploads)) {
      const file = this.#storedFingerprints().find((f) => f.operationId === upload.operationId);
      if (file && upload.status === 'uploading') found.push({ upload, file });
    }
    return found;
  }

  // ---- resume fingerprints ----------------------------------------------------
  // S3 knows the parts but not which local file they came from; the server
  // knows name and size but not the file's last-modified time. The fingerprint
  // kept here ties the two together, so a different file that happens to share
  // a name and size never gets spliced onto another file's parts.

  /** @param {File} file @param {UploadTarget} target */
  storageKey(file, target) {
    const where = target.type === 'chapter' ? `${target.courseId}/${target.chapterId}` : 'library';
    return `${STORAGE_PREFIX}${where}/${file.size}/${file.lastModified}/${file.name}`;
  }

  /** @returns {Fingerprint[]} */
  #storedFingerprints() {
    const store = this.storage;
    if (!store || !('length' in store)) return [];
    const all = /** @type {Storage} */ (store);
    /** @type {Fingerprint[]} */
    const found = [];
    for (let i = 0; i < all.length; i++) {
      const key = all.key(i);
      if (!key?.startsWith(STORAGE_PREFIX)) continue;
      const value = parseJson(all.getItem(key));
      if (value?.operationId) found.push(value);
    }
    return found;
  }
}

/**
 * @typedef {object} Fingerprint
 * @property {string} operationId
 * @property {string} name
 * @property {number} size
 * @property {number} lastModified
 */

/** One file on its way to S3. */
export class UploadTask {
  /** @type {TaskState} */
  state = 'preparing';
  /** @type {string | null} */
  operationId = null;
  /** Parts that were already in S3 when this page started (a resumed upload). */
  partsSkipped = 0;
  /** @type {Error | null} */
  error = null;

  /** @type {Upload | null} */
  #upload = null;
  /** @type {Map<number, UploadPart>} parts known to be in S3, by part number */
  #done = new Map();
  /** @type {Map<number, number>} bytes sent so far of the parts in flight */
  #inFlight = new Map();
  /** @type {Map<number, {url: string, usableUntil: number}>} presigned URLs, by part number */
  #urls = new Map();
  /** @type {Map<number, Promise<void>>} signing calls under way, by part number */
  #signing = new Map();
  /** @type {number[]} */
  #queue = [];
  #controller = new AbortController();
  #startedAt = 0;
  #bytesAtStart = 0;
  #reporter;

  /**
   * @param {Uploader} uploader
   * @param {File} file
   * @param {UploadTarget} target
   * @param {{onProgress?: (p: Progress) => void, onState?: (s: TaskState) => void}} callbacks
   */
  constructor(uploader, file, target, callbacks) {
    this.uploader = uploader;
    this.file = file;
    this.target = target;
    this.callbacks = callbacks;
    this.#reporter = throttle(
      () => this.#reportProgress(),
      uploader.options.reportIntervalMs,
      uploader.now,
    );
    /** Resolves with the upload once S3 has every part and completion is under way. */
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A caller that only watches callbacks must not see an unhandled rejection.
    this.done.catch(() => {});
  }

  /** @type {(u: Upload) => void} */
  #resolve = () => {};
  /** @type {(e: unknown) => void} */
  #reject = () => {};

  /** @returns {Progress} */
  get progress() {
    let bytes = 0;
    for (const part of this.#done.values()) bytes += part.size;
    for (const loaded of this.#inFlight.values()) bytes += loaded;
    const total = this.file.size;
    const elapsed = (this.uploader.now() - this.#startedAt) / 1000;
    const sent = bytes - this.#bytesAtStart;
    const rate = this.#startedAt && elapsed > 0.5 && sent > 0 ? sent / elapsed : null;
    return {
      bytesUploaded: Math.min(bytes, total),
      totalBytes: total,
      percent: total ? Math.min(100, (bytes / total) * 100) : 100,
      bytesPerSecond: rate,
      etaSeconds: rate ? Math.max(0, total - bytes) / rate : null,
    };
  }

  /**
   * Stop sending parts and abort the upload in S3 (the parts are discarded).
   * Once S3 has every part (`completing`) there is nothing left to cancel.
   */
  async abort() {
    if (this.state === 'aborted' || this.state === 'completing') return;
    this.#controller.abort(new DOMException('upload aborted', 'AbortError'));
    this.#setState('aborted');
    this.#forget();
    if (this.operationId) {
      await this.uploader.api.delete(`/uploads/${this.operationId}`).catch(() => {});
    }
    this.#reject(new DOMException('upload aborted', 'AbortError'));
  }

  /** @internal */
  async start() {
    try {
      const upload = (await this.#resume()) ?? (await this.#create());
      this.#upload = upload;
      this.operationId = upload.operationId;
      if (this.#controller.signal.aborted) {
        // abort() ran while the upload was being opened: close it here too.
        await this.uploader.api.delete(`/uploads/${upload.operationId}`).catch(() => {});
        return;
      }
      if (upload.status === 'completing') {
        // A previous page already completed it; nothing is left to send.
        this.#setState('completing');
        this.#forget();
        this.#resolve(upload);
        return;
      }
      this.#setState('uploading');
      this.#startedAt = this.uploader.now();
      this.#bytesAtStart = this.progress.bytesUploaded;
      this.#emitProgress();
      for (let n = 1; n <= upload.partCount; n++) if (!this.#done.has(n)) this.#queue.push(n);
      const workers = Array.from(
        { length: Math.min(this.uploader.options.concurrency, this.#queue.length) },
        () => this.#worker(),
      );
      await Promise.all(workers);
      this.#setState('completing');
      await this.#reporter.flush();
      const parts = [...this.#done.values()]
        .sort((a, b) => a.partNumber - b.partNumber)
        .map(({ partNumber, etag }) => ({ partNumber, etag }));
      await this.#call(() =>
        this.uploader.api.post(`/uploads/${upload.operationId}/complete`, { parts }),
      );
      this.#forget();
      this.#resolve({ ...upload, status: 'completing', bytesUploaded: upload.size });
    } catch (err) {
      if (this.#controller.signal.aborted) return;
      this.#fail(err);
    }
  }

  // ---- starting or continuing -------------------------------------------------

  /** @returns {Promise<Upload | null>} the open upload this file can continue, with its held parts */
  async #resume() {
    const key = this.uploader.storageKey(this.file, this.target);
    const stored = parseJson(this.uploader.storage?.getItem(key) ?? null);
    if (!stored?.operationId) return null;
    /** @type {Upload & {parts?: UploadPart[]}} */
    let upload;
    try {
      upload = await this.#call(() => this.uploader.api.get(`/uploads/${stored.operationId}`));
    } catch (err) {
      // 404: gone (expired, aborted elsewhere, another user's token): start over.
      if (err instanceof ApiError && err.status === 404) {
        this.#forget();
        return null;
      }
      throw err;
    }
    if (upload.status !== 'uploading' && upload.status !== 'completing') {
      this.#forget();
      return null;
    }
    for (const part of upload.parts ?? []) {
      // A part of the wrong size came from something else (a changed file, a
      // bug): sending it again overwrites it, which is always safe.
      if (part.size === expectedPartSize(upload, part.partNumber)) this.#done.set(part.partNumber, part);
    }
    this.partsSkipped = this.#done.size;
    return upload;
  }

  /** @returns {Promise<Upload>} */
  async #create() {
    const body = {
      filename: this.file.name,
      contentType: this.file.type || 'application/octet-stream',
      size: this.file.size,
      target: this.target,
    };
    // Not retried: when only the response was lost, a retry would open a
    // second upload. The user can choose the file again; the sweep closes
    // the orphan.
    const upload = await this.uploader.api.post('/uploads', body, { signal: this.#controller.signal });
    /** @type {Fingerprint} */
    const fingerprint = {
      operationId: upload.operationId,
      name: this.file.name,
      size: this.file.size,
      lastModified: this.file.lastModified,
    };
    this.uploader.storage?.setItem(
      this.uploader.storageKey(this.file, this.target),
      JSON.stringify(fingerprint),
    );
    return upload;
  }

  #forget() {
    this.uploader.storage?.removeItem(this.uploader.storageKey(this.file, this.target));
  }

  // ---- sending parts ----------------------------------------------------------

  async #worker() {
    for (let n = this.#queue.shift(); n !== undefined; n = this.#queue.shift()) {
      this.#controller.signal.throwIfAborted();
      await this.#sendPart(n);
    }
  }

  /** @param {number} partNumber */
  async #sendPart(partNumber) {
    const upload = /** @type {Upload} */ (this.#upload);
    const start = (partNumber - 1) * upload.partSize;
    const body = this.file.slice(start, start + expectedPartSize(upload, partNumber));
    const { maxAttempts, backoff } = this.uploader.options;
    const signal = this.#controller.signal;
    for (let attempt = 0; ; attempt++) {
      let result;
      try {
        const url = await this.#urlFor(partNumber);
        signal.throwIfAborted();
        this.#inFlight.set(partNumber, 0);
        result = await this.uploader.putPart(url, body, {
          signal,
          onProgress: (loaded) => {
            this.#inFlight.set(partNumber, loaded);
            this.#emitProgress();
          },
        });
      } catch (err) {
        if (signal.aborted) throw err;
        // Signing failed: only worth another try if the API said so.
        if (!(err instanceof ApiError && err.retryable) || attempt + 1 >= maxAttempts) throw err;
        await sleep(backoffDelay(attempt, backoff), signal);
        continue;
      } finally {
        this.#inFlight.delete(partNumber);
      }
      if (result.status >= 200 && result.status < 300) {
        if (!result.etag) {
          throw new Error(
            'S3 accepted a part but its ETag header was not readable: the bucket CORS rule must expose ETag',
          );
        }
        this.#done.set(partNumber, { partNumber, etag: result.etag, size: body.size });
        this.#emitProgress();
        return;
      }
      if (!isRetryablePut(result.status) || attempt + 1 >= maxAttempts) {
        throw new Error(`S3 refused part ${partNumber} with HTTP ${result.status}`);
      }
      if (result.status === 403) {
        // The usual 403 is an expired signature: sign again and retry at once.
        this.#urls.delete(partNumber);
        if (attempt === 0) continue;
      }
      await sleep(backoffDelay(attempt, backoff), signal);
    }
  }

  /**
   * A presigned URL for the part, signing a batch of upcoming parts along with
   * it so most parts need no API call of their own.
   *
   * @param {number} partNumber
   * @returns {Promise<string>}
   */
  async #urlFor(partNumber) {
    const now = this.uploader.now();
    const held = this.#urls.get(partNumber);
    if (held && held.usableUntil > now) return held.url;
    await (this.#signing.get(partNumber) ?? this.#signBatch(partNumber));
    const signed = this.#urls.get(partNumber);
    if (!signed) throw new ApiError(0, 'not_signed', `part ${partNumber} was not signed`);
    return signed.url;
  }

  /**
   * Sign `partNumber` and the next parts in the queue that need a URL.
   * @param {number} partNumber
   */
  async #signBatch(partNumber) {
    const { presignBatch, expiryMarginMs } = this.uploader.options;
    const batch = [partNumber];
    for (const n of this.#queue) {
      if (batch.length >= presignBatch) break;
      const held = this.#urls.get(n);
      if (!this.#signing.has(n) && !(held && held.usableUntil > this.uploader.now())) batch.push(n);
    }
    const signing = this.uploader.api
      .post(`/uploads/${this.operationId}/parts`, { partNumbers: batch }, { signal: this.#controller.signal })
      .then((/** @type {{urls: Record<string, string>, expiresAt: string}} */ res) => {
        const signedAt = this.uploader.now();
        // The server's expiry is in the server's clock; ours may be off. Keep
        // the lifetime it implies, and when skew makes that nonsense, guess a
        // minute: a 403 from S3 makes us sign again anyway.
        let lifetime = Date.parse(res.expiresAt) - signedAt;
        if (!(lifetime > 0)) lifetime = 60_000;
        const usableUntil = signedAt + lifetime - Math.min(expiryMarginMs, lifetime / 2);
        for (const [n, url] of Object.entries(res.urls)) this.#urls.set(Number(n), { url, usableUntil });
      });
    for (const n of batch) this.#signing.set(n, signing);
    try {
      await signing;
    } finally {
      for (const n of batch) if (this.#signing.get(n) === signing) this.#signing.delete(n);
    }
  }

  // ---- progress and state -----------------------------------------------------

  #emitProgress() {
    this.callbacks.onProgress?.(this.progress);
    this.#reporter.call();
  }

  async #reportProgress() {
    if (!this.operationId || this.state === 'aborted' || this.state === 'failed') return;
    try {
      await this.uploader.api.post(`/uploads/${this.operationId}/progress`, {
        bytesUploaded: this.progress.bytesUploaded,
      });
    } catch {
      // Progress is advisory: a lost report is replaced by the next one. A 409
      // means the upload closed (aborted elsewhere), and the parts fail too.
    }
  }

  /** @param {TaskState} state */
  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.callbacks.onState?.(state);
  }

  /** @param {unknown} err */
  #fail(err) {
    this.error = err instanceof Error ? err : new Error(String(err));
    this.#controller.abort(this.error);
    if (err instanceof ApiError && (err.status === 404 || err.status === 409)) this.#forget();
    this.#setState('failed');
    this.#reject(this.error);
  }

  /**
   * An API call retried with backoff while its error is retryable.
   * @template T
   * @param {() => Promise<T>} fn
   * @returns {Promise<T>}
   */
  async #call(fn) {
    const { maxAttempts, backoff } = this.uploader.options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const retry = err instanceof ApiError && err.retryable && attempt + 1 < maxAttempts;
        if (!retry || this.#controller.signal.aborted) throw err;
        await sleep(backoffDelay(attempt, backoff), this.#controller.signal);
      }
    }
  }
}

/**
 * @param {{size: number, partSize: number}} upload
 * @param {number} partNumber
 */
function expectedPartSize(upload, partNumber) {
  return Math.max(0, Math.min(upload.partSize, upload.size - (partNumber - 1) * upload.partSize));
}

/**
 * Worth another try: the network failed (0), S3 timed out reading a slow body
 * (400 RequestTimeout, 408), was busy (429, 503) or broken (5xx), or the
 * signature expired (403).
 * @param {number} status
 */
function isRetryablePut(status) {
  return status === 0 || status === 400 || status === 403 || status === 408 || status === 429 || status >= 500;
}

/**
 * PUT one part with XMLHttpRequest: unlike fetch, it reports upload progress,
 * which is what makes a bar move during a 5 MiB part on a slow link.
 * @type {PutPart}
 */
export function xhrPutPart(url, body, { signal, onProgress }) {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    /** @param {PutResult} result */
    const settle = (result) => {
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    xhr.open('PUT', url);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    // The ETag is readable only because the bucket's CORS rule exposes it.
    xhr.onload = () => settle({ status: xhr.status, etag: xhr.getResponseHeader('ETag') });
    xhr.onerror = () => settle({ status: 0, etag: null });
    xhr.ontimeout = () => settle({ status: 0, etag: null });
    xhr.onabort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    xhr.send(body);
  });
}

/**
 * Call `fn` at most once per `intervalMs`, always delivering the latest state:
 * a call inside the interval schedules one trailing call instead of being lost.
 *
 * @param {() => Promise<void>} fn
 * @param {number} intervalMs
 * @param {() => number} now
 */
export function throttle(fn, intervalMs, now) {
  let last = -Infinity;
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @type {Promise<void>} */
  let running = Promise.resolve();
  const run = () => {
    timer = null;
    last = now();
    running = running.then(fn, fn);
    return running;
  };
  return {
    call() {
      if (timer) return;
      const wait = last + intervalMs - now();
      if (wait <= 0) run();
      else timer = setTimeout(run, wait);
    },
    /** Send the pending call now (e.g. the final 100% before completing). */
    flush() {
      if (timer) clearTimeout(timer);
      return run();
    },
  };
}

/** @param {string | null} text */
function parseJson(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
