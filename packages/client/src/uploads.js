// Every upload a page knows of, in one map keyed by operationId whatever its
// target. A library upload and a chapter upload are the same event types in
// the same envelope, told apart only by `target`; the old platform's library
// progress never showed because the two had different shapes and handlers.
// ResourceCache and the TanStack Query binding both keep their uploads here.

/** @import { Upload, UploadTarget, UploadStatus } from './types.js' */

/**
 * What a page needs to draw one upload's progress bar, from whichever source
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

/**
 * Progress as the uploader in this tab or an `upload.progress` event reports it.
 * @typedef {{bytesUploaded: number, totalBytes: number, filename: string, target: UploadTarget,
 *            bytesPerSecond?: number | null, etaSeconds?: number | null}} ProgressReport
 */

const TERMINAL = new Set(['completed', 'failed', 'aborted']);

export class UploadBook {
  /** @type {Map<string, UploadView>} */
  #uploads = new Map();
  /** @type {Set<(uploads: UploadView[]) => void>} */
  #listeners = new Set();

  /** Uploads known, in the order they started. */
  all() {
    return [...this.#uploads.values()];
  }

  /** @param {string} operationId */
  get(operationId) {
    return this.#uploads.get(operationId);
  }

  /**
   * Called with every upload now and after every change.
   * @param {(uploads: UploadView[]) => void} listener
   * @returns {() => void}
   */
  watch(listener) {
    this.#listeners.add(listener);
    listener(this.all());
    return () => this.#listeners.delete(listener);
  }

  /**
   * Never goes backwards, and nothing moves an upload once it has ended.
   * @param {string} operationId
   * @param {ProgressReport} progress
   */
  progress(operationId, progress) {
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
    this.#notify();
  }

  /**
   * An upload's state from the API or an event. A terminal state is final: a
   * late `upload.started` replayed after `upload.completed` must not bring the
   * bar back, nor take a completing upload back to uploading.
   * @param {Upload} upload
   * @param {string | null} reason
   */
  put(upload, reason) {
    const current = this.#uploads.get(upload.operationId);
    if (current && TERMINAL.has(current.status)) return;
    this.#uploads.set(upload.operationId, {
      operationId: upload.operationId,
      filename: upload.filename,
      target: upload.target,
      status: current?.status === 'completing' && upload.status === 'uploading' ? 'completing' : upload.status,
      userId: upload.userId,
      mediaId: upload.mediaId ?? null,
      reason,
      totalBytes: upload.size,
      bytesUploaded: Math.max(upload.bytesUploaded, current?.bytesUploaded ?? 0),
      bytesPerSecond: current?.bytesPerSecond ?? null,
      etaSeconds: current?.etaSeconds ?? null,
    });
    this.#notify();
  }

  /**
   * What this tab's uploader knows before any event says it: S3 has every
   * part (`completing`), or the upload was given up on (`failed`, `aborted`).
   * A terminal status is never changed.
   * @param {string} operationId
   * @param {'completing' | 'failed' | 'aborted'} status
   * @param {string | null} [reason]
   */
  status(operationId, status, reason = null) {
    const current = this.#uploads.get(operationId);
    if (!current || TERMINAL.has(current.status)) return;
    this.#uploads.set(operationId, { ...current, status, reason });
    this.#notify();
  }

  #notify() {
    const uploads = this.all();
    for (const listener of this.#listeners) listener(uploads);
  }
}
