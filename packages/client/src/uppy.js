// An Uppy plugin that shares an upload's progress with co-editors.
//
// Uppy measures progress in the browser; other members see a bar only if the
// API hears it (`POST /uploads/{operationId}/progress`, broadcast as
// `upload.progress` on the uploader's and the course's channels). Uppy's
// Companion mode reported nothing, so co-editors saw no bar: this plugin
// reports in both of @uppy/aws-s3's server-signed modes, throttled (the API
// broadcasts at most 4 a second anyway), never backwards, with the last value
// of a burst sent rather than dropped.
//
//   import { UppyProgress } from '@course-media/client/uppy';
//   uppy.use(UppyProgress, { api });                // Companion mode: that is all
//   // signRequest mode: tell it the key the API chose (see docs/uppy.md)
//   uppy.getPlugin('CourseMediaProgress').rememberKey(file.id, signed.key);
//
// The operation id is the third segment of the object key
// (`uploads/{userId}/{operationId}/{filename}`), which Uppy keeps in the
// file's `s3Multipart.key` once the multipart upload exists.
//
// It is a plain class with Uppy's plugin interface (id, type, install,
// uninstall, update), so it works with @uppy/core and Uppy's bundle alike
// without importing either.

/** @import { ApiClient } from './api.js' */

/**
 * The little of an Uppy file this plugin reads.
 * @typedef {{id: string, size?: number | null, s3Multipart?: {key?: string} | null}} UppyFile
 *
 * The little of an Uppy instance this plugin uses.
 * @typedef {object} UppyLike
 * @property {(event: string, callback: (...args: any[]) => void) => unknown} on
 * @property {(event: string, callback: (...args: any[]) => void) => unknown} off
 * @property {(fileId: string) => UppyFile | undefined} getFile
 *
 * @typedef {object} UppyProgressOptions
 * @property {Pick<ApiClient, 'post'>} api the ApiClient (token and base URL) the reports go through
 * @property {string} [id] the plugin's id in Uppy (default `CourseMediaProgress`)
 * @property {number} [intervalMs] at most one report per file this often (default 500)
 * @property {(file: UppyFile) => string | null | undefined} [keyOf] the object key of a
 *   file, when neither rememberKey nor `s3Multipart.key` has it
 * @property {(operationId: string, bytesUploaded: number) => void} [onReport] after each report is sent
 */

/**
 * @typedef {object} Pending
 * @property {number} lastSentAt
 * @property {number} sent bytes already reported
 * @property {number} latest bytes Uppy reported last
 * @property {ReturnType<typeof setTimeout> | null} timer a trailing report waiting for its slot
 */

export class UppyProgress {
  static VERSION = '0.1.0';
  type = 'modifier';

  /** @type {Map<string, string>} file id -> object key */
  #keys = new Map();
  /** @type {Map<string, Pending>} */
  #files = new Map();

  /**
   * @param {UppyLike} uppy
   * @param {UppyProgressOptions} options
   */
  constructor(uppy, options) {
    if (!options?.api) throw new TypeError('UppyProgress needs { api }: an ApiClient');
    this.uppy = uppy;
    this.id = options.id ?? 'CourseMediaProgress';
    this.opts = { intervalMs: 500, ...options };
  }

  install() {
    this.uppy.on('upload-progress', this.#onProgress);
    this.uppy.on('upload-success', this.#onDone);
    this.uppy.on('upload-error', this.#onForget);
    this.uppy.on('file-removed', this.#onForget);
  }

  uninstall() {
    this.uppy.off('upload-progress', this.#onProgress);
    this.uppy.off('upload-success', this.#onDone);
    this.uppy.off('upload-error', this.#onForget);
    this.uppy.off('file-removed', this.#onForget);
    for (const pending of this.#files.values()) if (pending.timer) clearTimeout(pending.timer);
    this.#files.clear();
  }

  /** Uppy calls this on every state change of every plugin; nothing to draw. */
  update() {}

  /** @param {Partial<UppyProgressOptions>} options */
  setOptions(options) {
    this.opts = { ...this.opts, ...options };
  }

  /**
   * The key the API chose for a file, for signRequest mode, where Uppy may
   * keep the key it proposed (the file id) rather than the one signed.
   * @param {string} fileId
   * @param {string} key
   */
  rememberKey(fileId, key) {
    this.#keys.set(fileId, key);
  }

  /**
   * The operation id of an Uppy file, once known.
   * @param {string} fileId
   * @returns {string | null}
   */
  operationIdOf(fileId) {
    const file = this.uppy.getFile(fileId);
    const key =
      this.#keys.get(fileId) ?? file?.s3Multipart?.key ?? (file ? this.opts.keyOf?.(file) : null) ?? null;
    const segments = key?.split('/') ?? [];
    return segments.length >= 4 && segments[0] === 'uploads' ? segments[2] : null;
  }

  /** @param {UppyFile | undefined} file @param {{bytesUploaded?: number | boolean}} progress */
  #onProgress = (file, progress) => {
    if (!file || typeof progress?.bytesUploaded !== 'number') return;
    const pending = this.#pending(file.id);
    pending.latest = Math.max(pending.latest, progress.bytesUploaded);
    this.#schedule(file.id, pending);
  };

  /** The last bytes of a finished file go out at once (the bar ends full). */
  #onDone = (/** @type {UppyFile | undefined} */ file) => {
    if (!file) return;
    const pending = this.#files.get(file.id);
    if (pending) {
      if (pending.timer) clearTimeout(pending.timer);
      pending.timer = null;
      if (pending.latest > pending.sent) this.#send(file.id, pending);
    }
    this.#files.delete(file.id);
    this.#keys.delete(file.id);
  };

  #onForget = (/** @type {UppyFile | undefined} */ file) => {
    if (!file) return;
    const pending = this.#files.get(file.id);
    if (pending?.timer) clearTimeout(pending.timer);
    this.#files.delete(file.id);
    this.#keys.delete(file.id);
  };

  /** @param {string} fileId */
  #pending(fileId) {
    let pending = this.#files.get(fileId);
    if (!pending) {
      pending = { lastSentAt: -Infinity, sent: 0, latest: 0, timer: null };
      this.#files.set(fileId, pending);
    }
    return pending;
  }

  /** @param {string} fileId @param {Pending} pending */
  #schedule(fileId, pending) {
    if (pending.timer || pending.latest <= pending.sent) return;
    const wait = pending.lastSentAt + this.opts.intervalMs - Date.now();
    if (wait <= 0) {
      this.#send(fileId, pending);
    } else {
      pending.timer = setTimeout(() => {
        pending.timer = null;
        if (this.#files.get(fileId) === pending) this.#send(fileId, pending);
      }, wait);
    }
  }

  /** @param {string} fileId @param {Pending} pending */
  #send(fileId, pending) {
    const operationId = this.operationIdOf(fileId);
    // Before the upload exists in S3 there is no key yet: the next report goes.
    if (!operationId) return;
    const bytesUploaded = pending.latest;
    pending.sent = bytesUploaded;
    pending.lastSentAt = Date.now();
    this.opts.api
      .post(`/uploads/${operationId}/progress`, { bytesUploaded })
      // A report that fails (the upload already completing, the network) is
      // only a missed tick of someone else's bar: the next one carries on.
      .catch(() => {});
    this.opts.onReport?.(operationId, bytesUploaded);
  }
}
