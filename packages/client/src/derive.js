// What one server event means for the REST representations a client holds.
//
// Every change event names, in `resources`, the REST paths whose
// representation it changed, and carries the full new state of what changed
// (a whole chapter with its items and version, a whole media file, a whole
// upload). This module turns an event into the new value of each path it can
// derive from that state, as a function of the value held; ResourceCache and
// the TanStack Query binding apply the same functions to their own stores,
// so the two cannot disagree about what an event changed. What an event names
// but this module cannot derive (an event type it does not know, or `data`
// null because the event was too large for one WebSocket message) is for the
// caller to fetch again.

/** @import { Chapter, MediaFile, EventMediaFile, ServerEvent, Upload, UploadProgressData } from './types.js' */

/**
 * The new value of a path from the value held (never called without one).
 * Returns the held value itself when the event changes nothing there (a
 * chapter version not newer than the held one, another member's media file
 * for `/media`), so a store can skip telling anyone.
 * @typedef {(held: any) => any} Update
 */

/**
 * @typedef {object} Derived
 * @property {Map<string, Update>} updates REST path -> its new value from the held one
 * @property {{upload: Upload, reason: string | null} | null} upload the upload's new state
 * @property {{operationId: string, progress: UploadProgressData} | null} progress transient progress
 */

/**
 * @param {ServerEvent} event
 * @param {{userId: string}} viewer the signed-in user: `/media` is *their*
 *   library, so another member's media file never enters it, even though
 *   events about it name `/media` too
 * @returns {Derived}
 */
export function derive(event, { userId }) {
  /** @type {Derived} */
  const derived = { updates: new Map(), upload: null, progress: null };
  // `event.data` is read per case so that the type of `event` narrows it.
  switch (event.type) {
    case 'upload.started':
      if (event.data) putUpload(derived, event.data.upload, null);
      break;
    case 'upload.completed':
      if (event.data) {
        putUpload(derived, event.data.upload, null);
        putMedia(derived, event.data.media, userId);
      }
      break;
    case 'upload.failed':
    case 'upload.aborted':
      if (event.data) putUpload(derived, event.data.upload, event.data.reason);
      break;
    case 'upload.progress':
      if (event.data && event.operationId) {
        derived.progress = { operationId: event.operationId, progress: event.data };
        // Progress is transient: no held representation needs a refetch for it.
        derived.updates.set(`/uploads/${event.operationId}`, (held) => held);
      }
      break;
    case 'media.linked':
    case 'media.unlinked':
      if (event.data) {
        putMedia(derived, event.data.media, userId);
        putChapter(derived, event.data.chapter);
      }
      break;
    case 'media.updated':
      // The processing step's outcome; the chapters holding the file follow
      // with chapter.updated.
      if (event.data) putMedia(derived, event.data.media, userId);
      break;
    case 'chapter.updated':
      if (event.data) putChapter(derived, event.data.chapter);
      break;
    default:
      // An event type this client does not know: the resources it names are
      // still right, and the caller fetches them again.
      break;
  }
  return derived;
}

/**
 * Where a REST answer's chapter (link, unlink, PATCH) lands: the same as for
 * the chapter an event carries.
 * @param {Chapter} chapter
 * @returns {Map<string, Update>}
 */
export function chapterUpdates(chapter) {
  /** @type {Derived} */
  const derived = { updates: new Map(), upload: null, progress: null };
  putChapter(derived, chapter);
  return derived.updates;
}

/**
 * @param {Derived} derived
 * @param {Upload} upload
 * @param {string | null} reason
 */
function putUpload(derived, upload, reason) {
  derived.upload = { upload, reason };
  derived.updates.set(`/uploads/${upload.operationId}`, (held) => ({ ...held, ...upload }));
}

/**
 * @param {Derived} derived
 * @param {MediaFile | EventMediaFile} media
 * @param {string} userId
 */
function putMedia(derived, media, userId) {
  // Events omit the short-lived download URL; keep the one held.
  derived.updates.set(`/media/${media.mediaId}`, (held) => ({
    ...media,
    downloadUrl: media.downloadUrl ?? held?.downloadUrl ?? null,
  }));
  derived.updates.set('/media', (library) => {
    if (!library) return library;
    const items = /** @type {MediaFile[]} */ (library.items ?? []);
    const at = items.findIndex((m) => m.mediaId === media.mediaId);
    if (at >= 0) {
      const file = { ...media, downloadUrl: media.downloadUrl ?? items[at].downloadUrl ?? null };
      return { ...library, items: items.with(at, file) };
    }
    if (media.userId !== userId) return library;
    return { ...library, items: [{ ...media, downloadUrl: media.downloadUrl ?? null }, ...items] };
  });
}

/**
 * A chapter appears in three representations: its own path, the course's
 * chapter list and the course. All three take the one chapter the event
 * carries, and only when its version is newer than the one held, so a
 * replayed or duplicated event changes nothing.
 *
 * @param {Derived} derived
 * @param {Chapter} chapter
 */
function putChapter(derived, chapter) {
  const base = `/courses/${chapter.courseId}`;
  derived.updates.set(`${base}/chapters/${chapter.chapterId}`, (held) =>
    isNewer(chapter, held) ? chapter : held,
  );
  /** @type {Update} */
  const merge = (held) => {
    if (!held) return held;
    const chapters = mergeChapter(held.chapters ?? [], chapter);
    return chapters ? { ...held, chapters } : held;
  };
  derived.updates.set(`${base}/chapters`, merge);
  derived.updates.set(base, merge);
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
