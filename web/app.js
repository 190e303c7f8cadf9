// The demo page: the caller's courses, a course with its members and chapters
// beside a media library, live for every member; any member plays what the
// chapters hold.
//
// It is meant to be copied from. The shape to copy:
// 1. One Session per signed-in user owns an ApiClient, a ResourceCache, an
//    Uploader and a RealtimeClient; switching users throws the whole session
//    away, so nothing of one user's state can leak into another's view.
// 2. Every server event goes to `cache.applyEvent` and nowhere else. Views
//    watch REST paths in the cache and re-render when they change; no view
//    listens for event types, so no view can miss or misread one.
// 3. Upload bars render from `cache.uploads()`, fed by both the local uploader
//    (instant) and `upload.progress` events (other members' uploads), placed by
//    the upload's `target`: library and chapter uploads are the same thing.
// 4. What a member may do follows their role (`GET /courses/{id}/members`):
//    a viewer sees no upload, link or remove control, and plays like anyone.
// 5. Playback asks the API for a short-lived URL per file
//    (`/courses/{id}/media/{mediaId}/playback`) and hands it to a <video>
//    element, which seeks with Range requests; posters come with it.

// The client is the npm package @course-media/client, imported by its name as
// any app would; index.html's import map points the name at the copy the
// local stack serves from node_modules/ (a bundler resolves it on its own).
import { ApiClient, ApiError, RealtimeClient, ResourceCache, Uploader } from '@course-media/client';

/** @import { Chapter, ChapterItem, Course, Member, MediaFile, Upload, UploadTarget, ServerEvent, ControlMessage, ConnectionState, UploadView, UploadTask, RestSchemas } from '@course-media/client' */
/** @typedef {RestSchemas['Playback']} Playback */
/** @typedef {RestSchemas['CourseSummary']} CourseSummary */

const API_BASE = '/api';
const WS_URL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const OPEN_STATUSES = new Set(['uploading', 'completing']);
const WRITERS = new Set(['owner', 'editor']);
// A playback URL with less than this left is asked for again.
const PLAYBACK_MARGIN_MS = 60_000;

// ---- development identity ----------------------------------------------------
// The local stack mints tokens for any user name. A real app gets its token
// from its sign-in (a Cognito user pool, say) and passes the same kind of
// function: the clients call it before every request and every (re)connect.

/** @type {Map<string, {token: string, refreshAt: number}>} */
const tokens = new Map();

/** @param {string} userId */
async function devToken(userId) {
  const held = tokens.get(userId);
  if (held && held.refreshAt > Date.now()) return held.token;
  const response = await fetch(`/dev/token?user=${encodeURIComponent(userId)}`);
  if (!response.ok) throw new Error(`no development token for ${userId} (${response.status})`);
  const { token, expiresIn } = await response.json();
  // Refresh well before expiry: a token that expires mid-upload fails a call.
  tokens.set(userId, { token, refreshAt: Date.now() + (expiresIn * 1000) / 2 });
  return token;
}

// ---- one signed-in user's session -------------------------------------------

class Session {
  /** @type {Map<string, UploadTask>} this tab's uploads, by operationId */
  tasks = new Map();
  /** @type {(() => void)[]} */
  #stops = [];
  /** @type {{upload: Upload}[]} open uploads a reload interrupted */
  resumable = [];
  /** Channels whose first `subscribed` reply has arrived. */
  #subscribed = new Set();
  /** @type {Map<string, Set<string>>} media ids shown per chapter, to highlight arrivals */
  #shownItems = new Map();
  /** @type {Map<string, Promise<Playback>>} playback answers by media id, until near expiry */
  #playbacks = new Map();
  /** @type {string | null} this user's role in the course, once the members are loaded */
  role = null;

  /**
   * @param {string} userId
   * @param {string} courseId
   * @param {(courseId: string) => void} onPickCourse
   */
  constructor(userId, courseId, onPickCourse) {
    this.userId = userId;
    this.courseId = courseId;
    this.onPickCourse = onPickCourse;
    const token = () => devToken(userId);
    this.api = new ApiClient({ baseUrl: API_BASE, token });
    this.cache = new ResourceCache({ api: this.api, userId });
    this.uploader = new Uploader({ api: this.api });
    this.realtime = new RealtimeClient({ url: WS_URL, token });
    this.paths = {
      courses: '/courses',
      course: `/courses/${courseId}`,
      members: `/courses/${courseId}/members`,
      chapters: `/courses/${courseId}/chapters`,
      library: '/media',
    };
  }

  /** Owners and editors change chapters; viewers watch. */
  get canWrite() {
    return this.role !== null && WRITERS.has(this.role);
  }

  start() {
    const { realtime, cache, paths } = this;
    this.#stops.push(
      realtime.onState(renderConnection),
      realtime.onEvent((event) => {
        cache.applyEvent(event);
        logEvent(event);
      }),
      realtime.onControl((message) => this.#onControl(message)),
      // Missed events could not all be replayed (expired, or a reset local stack): refetch.
      realtime.onResync(() => Object.values(paths).forEach((p) => cache.load(p).catch(showError))),
      cache.watch(paths.courses, ({ courses }) => renderCourseList(courses, this.courseId, this.onPickCourse)),
      cache.watch(paths.course, (course) => renderCourseHeader(course)),
      cache.watch(paths.members, ({ members }) => this.#renderMembers(members)),
      cache.watch(paths.chapters, ({ chapters }) => this.#renderChapters(chapters)),
      cache.watch(paths.library, ({ items }) => this.#renderLibrary(items)),
      cache.watchUploads(() => scheduleUploadsRender(this)),
    );
    // Subscribing to the user channel explicitly (the server also joins every
    // connection to it) gives it a seq, so a reconnect replays it too.
    realtime.subscribe(`user:${this.userId}`);
    realtime.subscribe(`course:${this.courseId}`);
    realtime.connect();
    this.refreshResumable();
  }

  stop() {
    closePlayer();
    this.realtime.close();
    for (const stop of this.#stops) stop();
    for (const task of this.tasks.values()) task.abort();
  }

  /** @param {ControlMessage} message */
  #onControl(message) {
    if (message.type === 'error') showNotice(`Realtime: ${message.data?.message}`, 'error');
    if (message.type !== 'subscribed' || !message.data) return;
    const channel = message.data.channel;
    if (this.#subscribed.has(channel)) return;
    this.#subscribed.add(channel);
    // Fetch once more after the first subscription: the page's first fetch
    // may have raced a change made before the channel was subscribed. Later
    // reconnects need no fetch: `since` replays what was missed.
    const stale = channel.startsWith('course:') ? [this.paths.course, this.paths.chapters] : [this.paths.library];
    for (const path of stale) this.cache.load(path).catch(showError);
  }

  // ---- actions ---------------------------------------------------------------------

  /**
   * @param {File} file
   * @param {UploadTarget} target
   */
  upload(file, target) {
    const { cache } = this;
    const task = this.uploader.upload(file, target, {
      // Local progress renders at once; the uploader reports to the API at
      // most twice a second, and the server tells the other members.
      onProgress: (p) => {
        if (task.operationId) cache.applyProgress(task.operationId, { ...p, filename: file.name, target });
      },
      onState: (state) => {
        const op = task.operationId;
        if (state === 'uploading' && op) {
          this.tasks.set(op, task);
          if (task.partsSkipped) {
            showNotice(`Continuing ${file.name}: ${task.partsSkipped} part(s) were already in S3.`);
          }
          this.refreshResumable();
        }
        if (op && (state === 'completing' || state === 'aborted')) cache.setUploadStatus(op, state);
        if (op && state === 'failed') cache.setUploadStatus(op, 'failed', String(task.error?.message));
        if (state === 'failed') showError(task.error);
      },
    });
    task.done
      .then(() => announce(`${file.name} uploaded; processing.`))
      .catch(() => {})
      // Once S3 has every part there is nothing left to cancel.
      .finally(() => {
        if (task.operationId) this.tasks.delete(task.operationId);
        scheduleUploadsRender(this);
      });
  }

  /**
   * Link a library file into a chapter (PUT) or take it out again (DELETE).
   * The answer is the chapter's new state: it goes into the cache at once, so
   * this tab does not wait for the event (which then changes nothing, its
   * version being no newer). The media file's `links` arrive with the event.
   *
   * @param {'PUT' | 'DELETE'} method
   * @param {string} chapterId
   * @param {string} mediaId
   */
  async setLink(method, chapterId, mediaId) {
    try {
      const path = `/courses/${this.courseId}/chapters/${chapterId}/media/${mediaId}`;
      this.cache.putChapter(await this.api.request(method, path, method === 'PUT' ? {} : undefined));
      announce(method === 'PUT' ? 'Linked.' : 'Removed from the chapter.');
    } catch (err) {
      showError(err);
    }
  }

  /**
   * The playback answer for a file of this course: asked for once and reused
   * until shortly before it expires (a player keeps one URL for a viewing).
   * @param {string} mediaId
   * @returns {Promise<Playback>}
   */
  playback(mediaId) {
    const held = this.#playbacks.get(mediaId);
    if (held) return held;
    const path = `/courses/${this.courseId}/media/${mediaId}/playback`;
    const asked = /** @type {Promise<Playback>} */ (this.api.get(path));
    this.#playbacks.set(mediaId, asked);
    asked.then(
      (answer) => {
        const left = Date.parse(answer.expiresAt) - Date.now() - PLAYBACK_MARGIN_MS;
        setTimeout(() => this.#playbacks.delete(mediaId), Math.max(0, left));
      },
      () => this.#playbacks.delete(mediaId),
    );
    return asked;
  }

  /** @param {ChapterItem} item */
  async play(item) {
    try {
      const { url } = await this.playback(item.mediaId);
      const video = /** @type {HTMLVideoElement} */ (byId('player-video'));
      byId('player-title').textContent = item.filename;
      byId('player').hidden = false;
      video.dataset.mediaId = item.mediaId;
      video.src = url;
      // The click that asked for it is the user's gesture: playing with sound is allowed.
      await video.play().catch(() => {});
    } catch (err) {
      showError(err);
    }
  }

  async refreshResumable() {
    try {
      // Not the uploads this tab is sending right now: those are not interrupted.
      const open = await this.uploader.resumable();
      this.resumable = open.filter(({ upload }) => !this.tasks.has(upload.operationId));
    } catch {
      this.resumable = [];
    }
    renderResumable(this, this.resumable);
  }

  // ---- views -------------------------------------------------------------------------

  /** @param {Member[]} members */
  #renderMembers(members) {
    const had = this.role;
    this.role = members.find((m) => m.userId === this.userId)?.role ?? null;
    byId('my-role').textContent = this.role ?? '';
    byId('members').replaceChildren(
      ...members.map((m) =>
        h('li', { class: 'member', 'data-user-id': m.userId },
          h('span', { class: 'avatar', 'aria-hidden': 'true' }, m.userId.slice(0, 1).toUpperCase()),
          h('span', {}, m.userId === this.userId ? `${m.userId} (you)` : m.userId),
          h('span', { class: `badge role-${m.role}` }, m.role),
        ),
      ),
    );
    if (had === this.role) return;
    // What this user may do changed: the controls follow.
    const chapters = this.cache.get(this.paths.chapters);
    if (chapters) this.#renderChapters(chapters.chapters);
  }

  /** @param {Chapter[]} chapters */
  #renderChapters(chapters) {
    const list = byId('chapters');
    list.replaceChildren(
      ...chapters.map((chapter, index) => {
        const shown = this.#shownItems.get(chapter.chapterId);
        this.#shownItems.set(chapter.chapterId, new Set(chapter.items.map((i) => i.mediaId)));
        const input = fileInput(`Upload a file into ${chapter.title}`, (file) =>
          this.upload(file, { type: 'chapter', courseId: this.courseId, chapterId: chapter.chapterId }),
        );
        return h('li', { class: 'chapter', 'data-chapter-id': chapter.chapterId },
          h('div', { class: 'chapter-head' },
            h('h3', {}, h('span', { class: 'chapter-number' }, `${index + 1}.`), chapter.title),
            h('div', { class: 'chapter-actions' },
              h('span', { class: 'badge', title: 'Chapter version: every change bumps it' }, `v${chapter.version}`),
              this.canWrite ? h('label', { class: 'button small' }, input, 'Upload') : '',
            ),
          ),
          h('ul', { class: 'uploads', 'data-uploads-for': chapter.chapterId, 'aria-label': `Uploads into ${chapter.title}` }),
          chapter.items.length
            ? h('ul', { class: 'items', 'aria-label': `Items of ${chapter.title}` },
                ...chapter.items.map((item) =>
                  h('li', { class: `item${shown && !shown.has(item.mediaId) ? ' fresh' : ''}`, 'data-media-id': item.mediaId },
                    item.hasPoster ? this.#poster(item) : fileIcon(item.contentType),
                    h('div', { class: 'name' },
                      h('strong', {}, item.filename),
                      h('span', {}, [
                        item.durationSeconds != null ? formatDuration(item.durationSeconds) : '',
                        item.width && item.height ? `${item.width}×${item.height}` : '',
                        formatBytes(item.size),
                        `added by ${item.addedBy}`,
                        item.status === 'processing' ? 'processing…' : '',
                      ].filter(Boolean).join(' · ')),
                    ),
                    playable(item.contentType)
                      ? h('button', {
                          class: 'small',
                          'aria-label': `Play ${item.filename}`,
                          onclick: () => this.play(item),
                        }, 'Play')
                      : '',
                    this.canWrite
                      ? h('button', {
                          class: 'quiet small',
                          'aria-label': `Remove ${item.filename} from ${chapter.title}`,
                          onclick: () => this.setLink('DELETE', chapter.chapterId, item.mediaId),
                        }, 'Remove')
                      : '',
                  ),
                ),
              )
            : h('p', { class: 'empty-items' }, this.canWrite ? 'No media yet: upload a file or link one from the library.' : 'No media yet.'),
        );
      }),
    );
    // The library's "link into" menus and the interrupted uploads name chapters.
    const library = this.cache.get(this.paths.library);
    if (library) this.#renderLibrary(library.items);
    renderResumable(this, this.resumable);
    scheduleUploadsRender(this);
  }

  /**
   * A poster frame: an <img> whose URL comes with the file's playback answer.
   * @param {ChapterItem} item
   */
  #poster(item) {
    const img = /** @type {HTMLImageElement} */ (h('img', { class: 'poster', alt: '', width: '64', height: '36' }));
    const show = (/** @type {Playback} */ { posterUrl }) => {
      if (posterUrl) img.src = posterUrl;
      return posterUrl;
    };
    this.playback(item.mediaId)
      .then((answer) => {
        if (show(answer)) return undefined;
        // Asked while the file was still processing: the item says a poster
        // exists now, so the kept answer is stale.
        this.#playbacks.delete(item.mediaId);
        return this.playback(item.mediaId).then(show);
      })
      .catch(() => {});
    return img;
  }

  /** @param {MediaFile[]} items */
  #renderLibrary(items) {
    const chapters = /** @type {Chapter[]} */ (this.cache.get(this.paths.chapters)?.chapters ?? []);
    const titles = new Map(chapters.map((c) => [c.chapterId, c.title]));
    byId('library-empty').hidden = items.length > 0;
    // An event about any file re-renders the list: what the user has chosen
    // in a file's chapter picker, and the focus on it, must survive that (a
    // file's processing outcome often lands while its chapter is being picked).
    const chosen = new Map();
    for (const picker of byId('library').querySelectorAll('select[data-media-id]')) {
      const select = /** @type {HTMLSelectElement} */ (picker);
      chosen.set(select.dataset.mediaId, select.value);
    }
    const active = document.activeElement;
    const focused = active instanceof HTMLSelectElement ? active.dataset.mediaId : undefined;
    /** @type {HTMLSelectElement | null} */
    let refocus = null;
    byId('library').replaceChildren(
      ...items.map((media) => {
        const linkedHere = media.links.filter((l) => l.courseId === this.courseId);
        const linkable = chapters.filter((c) => !linkedHere.some((l) => l.chapterId === c.chapterId));
        const select = /** @type {HTMLSelectElement} */ (
          h('select', { 'aria-label': `Chapter to link ${media.filename} into`, 'data-media-id': media.mediaId },
            ...linkable.map((c) => h('option', { value: c.chapterId }, c.title)),
          )
        );
        const was = chosen.get(media.mediaId);
        if (was && linkable.some((c) => c.chapterId === was)) select.value = was;
        if (focused === media.mediaId) refocus = select;
        return h('li', { class: 'item', 'data-media-id': media.mediaId },
          fileIcon(media.contentType),
          h('div', { class: 'name' },
            h('strong', {}, media.filename),
            h('span', {}, formatBytes(media.size)),
            linkedHere.length
              ? h('span', { class: 'linked-to' }, ` · in ${linkedHere.map((l) => titles.get(l.chapterId) ?? 'a chapter').join(', ')}`)
              : '',
          ),
          linkable.length && this.canWrite
            ? h('form', {
                class: 'link-form',
                onsubmit: (/** @type {Event} */ e) => {
                  e.preventDefault();
                  this.setLink('PUT', select.value, media.mediaId);
                },
              }, select, h('button', { class: 'small', type: 'submit' }, 'Link'))
            : '',
        );
      }),
    );
    /** @type {HTMLSelectElement | null} */ (refocus)?.focus();
  }
}

// ---- upload bars ----------------------------------------------------------------
// Progress changes many times a second; bars are updated in place, at most
// once per animation frame, so the rest of the page (an open <select>, focus)
// is left alone.

let uploadsFrame = 0;

/** @param {Session} session */
function scheduleUploadsRender(session) {
  if (uploadsFrame) return;
  uploadsFrame = requestAnimationFrame(() => {
    uploadsFrame = 0;
    renderUploads(session);
  });
}

/** @param {Session} session */
function renderUploads(session) {
  const open = session.cache.uploads().filter((u) => OPEN_STATUSES.has(u.status));
  const wanted = new Set(open.map((u) => u.operationId));
  for (const row of document.querySelectorAll('li.upload')) {
    if (!wanted.has(/** @type {HTMLElement} */ (row).dataset.operationId ?? '')) row.remove();
  }
  for (const upload of open) {
    const where = upload.target.type === 'chapter' ? upload.target.chapterId : 'library';
    const list = document.querySelector(`[data-uploads-for="${CSS.escape(where)}"]`);
    if (!list) continue;
    let row = /** @type {HTMLElement | null} */ (list.querySelector(`[data-operation-id="${CSS.escape(upload.operationId)}"]`));
    if (!row) {
      row = uploadRow(upload);
      list.append(row);
    }
    updateUploadRow(session, row, upload);
  }
}

/** @param {UploadView} upload */
function uploadRow(upload) {
  return h('li', { class: 'upload', 'data-operation-id': upload.operationId },
    h('div', { class: 'upload-line' }, h('strong', {}, upload.filename), h('span', { class: 'stats' })),
    h('progress', { max: '100', value: '0', 'aria-label': `Uploading ${upload.filename}` }),
    h('div', { class: 'upload-line' }, h('span', { class: 'who' }), h('span', { class: 'actions' })),
  );
}

/**
 * @param {Session} session
 * @param {HTMLElement} row
 * @param {UploadView} upload
 */
function updateUploadRow(session, row, upload) {
  const percent = upload.totalBytes ? (upload.bytesUploaded / upload.totalBytes) * 100 : 0;
  row.dataset.status = upload.status;
  const bar = /** @type {HTMLProgressElement} */ (row.querySelector('progress'));
  bar.value = percent;
  const parts = [upload.status === 'completing' ? 'Finishing…' : `${Math.floor(percent)}%`];
  if (upload.status === 'uploading') {
    parts.push(`${formatBytes(upload.bytesUploaded)} of ${formatBytes(upload.totalBytes)}`);
    if (upload.bytesPerSecond) parts.push(`${formatBytes(upload.bytesPerSecond)}/s`);
    if (upload.etaSeconds != null) parts.push(`${Math.ceil(upload.etaSeconds)} s left`);
  }
  /** @type {HTMLElement} */ (row.querySelector('.stats')).textContent = parts.join(' · ');

  // Who and what may be done can change after the row appears: the server's
  // upload.started event can arrive before this tab's uploader has its task.
  const task = session.tasks.get(upload.operationId);
  const mine = Boolean(task) || upload.userId === session.userId;
  /** @type {HTMLElement} */ (row.querySelector('.who')).textContent =
    mine ? 'You are uploading' : `${upload.userId ?? 'Someone'} is uploading`;
  const actions = /** @type {HTMLElement} */ (row.querySelector('.actions'));
  if (task && upload.status === 'uploading' && !actions.firstChild) {
    actions.append(h('button', { class: 'quiet small', onclick: () => task.abort(), 'aria-label': `Cancel uploading ${upload.filename}` }, 'Cancel'));
  } else if (!task || upload.status !== 'uploading') {
    actions.replaceChildren();
  }
}

// ---- the rest of the page ------------------------------------------------------------

/** @param {ConnectionState} state */
function renderConnection(state) {
  const labels = { idle: 'Not connected', connecting: 'Connecting…', open: 'Live', reconnecting: 'Reconnecting…', closed: 'Offline' };
  const pill = byId('connection');
  pill.dataset.state = state;
  /** @type {HTMLElement} */ (pill.querySelector('.label')).textContent = labels[state];
}

/**
 * The caller's courses (`GET /courses`), most recently changed first; the
 * open one is marked, a click opens another.
 *
 * @param {CourseSummary[]} courses
 * @param {string} openId
 * @param {(courseId: string) => void} onPick
 */
function renderCourseList(courses, openId, onPick) {
  byId('courses-empty').hidden = courses.length > 0;
  byId('courses').replaceChildren(
    ...courses.map((c) =>
      h('li', { 'data-course-id': c.courseId },
        h('button', {
          class: c.courseId === openId ? 'course current' : 'course',
          'aria-current': c.courseId === openId ? 'true' : 'false',
          onclick: () => onPick(c.courseId),
        }, h('strong', {}, c.title), h('span', { class: 'muted' }, ` · ${c.role}`)),
      ),
    ),
  );
}

function closePlayer() {
  const video = /** @type {HTMLVideoElement} */ (byId('player-video'));
  video.pause();
  video.removeAttribute('src');
  video.load();
  byId('player').hidden = true;
}

/** @param {Course} course */
function renderCourseHeader(course) {
  byId('course-title').textContent = course.title;
  const named = (/** @type {string} */ role) => course.members.filter((m) => m.role === role).map((m) => m.userId);
  const [owners, editors] = [named('owner'), named('editor')];
  byId('course-meta').textContent = [
    owners.length ? `Owner ${owners.join(', ')}` : '',
    editors.length ? `editors ${editors.join(', ')}` : '',
  ].filter(Boolean).join(' · ');
}

/**
 * Uploads a reload interrupted: the browser cannot reopen a file by itself
 * (a page never keeps access to the user's files), so the user picks it again
 * and the uploader continues from the parts S3 holds.
 *
 * @param {Session} session
 * @param {{upload: Upload}[]} found
 */
function renderResumable(session, found) {
  const chapters = /** @type {Chapter[]} */ (session.cache.get(session.paths.chapters)?.chapters ?? []);
  const box = byId('resumable');
  box.hidden = found.length === 0;
  box.replaceChildren(
    h('strong', {}, 'Interrupted uploads'),
    h('ul', {},
      ...found.map(({ upload }) => {
        const target = upload.target;
        const percent = upload.size ? Math.floor((upload.bytesUploaded / upload.size) * 100) : 0;
        const where = target.type === 'chapter'
          ? `“${chapters.find((c) => c.chapterId === target.chapterId)?.title ?? 'its chapter'}”`
          : 'the library';
        return h('li', {},
          `${upload.filename}, ${percent}% into ${where}. `,
          h('label', { class: 'button small' },
            fileInput(`Continue uploading ${upload.filename}`, (file) => session.upload(file, target)),
            'Choose it again to continue',
          ),
        );
      }),
    ),
  );
}

const MAX_LOGGED = 60;
let eventCount = 0;

/** @param {ServerEvent} event */
function logEvent(event) {
  byId('event-count').textContent = String(++eventCount);
  const list = byId('events');
  const summary = event.type === 'upload.progress' ? `${Math.floor(event.data?.percent ?? 0)}% of ${event.data?.filename}` : (event.resources ?? []).join(' ');
  list.prepend(
    h('li', {},
      h('span', {}, new Date(event.at).toLocaleTimeString()),
      h('span', {}, event.type),
      h('span', { title: event.channel ?? '' }, event.channel ?? ''),
      h('span', {}, event.seq == null ? '–' : `#${event.seq}`),
      h('span', { title: summary }, summary),
    ),
  );
  while (list.children.length > MAX_LOGGED) list.lastElementChild?.remove();
}

/**
 * @param {string} text
 * @param {'info' | 'error'} [kind]
 */
function showNotice(text, kind = 'info') {
  const notice = byId('notice');
  notice.textContent = text;
  notice.dataset.kind = kind;
  notice.hidden = false;
}

/** @param {unknown} err */
function showError(err) {
  const text = err instanceof ApiError ? `${err.message} (${err.code})` : String(/** @type {Error} */ (err)?.message ?? err);
  showNotice(text, 'error');
}

/** @param {string} text */
function announce(text) {
  byId('announcer').textContent = text;
}

// ---- tiny DOM helpers --------------------------------------------------------------------

/**
 * Create an element. Attributes starting with `on` become listeners; text
 * children are inserted as text, never parsed as HTML (file names are user input).
 *
 * @param {string} tag
 * @param {Record<string, any>} attributes
 * @param {(Node | string)[]} children
 */
function h(tag, attributes, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/** @param {string} id */
function byId(id) {
  return /** @type {HTMLElement} */ (document.getElementById(id));
}

/**
 * A visually hidden file input, labelled for screen readers, inside a styled <label>.
 * @param {string} label
 * @param {(file: File) => void} onFile
 */
function fileInput(label, onFile) {
  const input = /** @type {HTMLInputElement} */ (h('input', { type: 'file', class: 'visually-hidden', 'aria-label': label }));
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    // Clear it, so choosing the same file again (to resume) fires `change`.
    input.value = '';
    if (file) onFile(file);
  });
  return input;
}

/** @param {string} contentType */
function fileIcon(contentType) {
  const [kind] = contentType.split('/');
  const label = { video: 'VID', audio: 'AUD', image: 'IMG' }[kind] ?? (contentType.includes('pdf') ? 'PDF' : 'DOC');
  return h('span', { class: 'icon', 'aria-hidden': 'true' }, label);
}

/** @param {string} contentType */
function playable(contentType) {
  return contentType.startsWith('video/') || contentType.startsWith('audio/');
}

/** @param {number} seconds */
function formatDuration(seconds) {
  const whole = Math.round(seconds);
  const [h_, m, s_] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return h_ ? `${h_}:${two(m)}:${two(s_)}` : `${m}:${two(s_)}`;
}

/** @param {number} bytes */
function formatBytes(bytes) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

// ---- start ---------------------------------------------------------------------------------

async function main() {
  const response = await fetch('/dev/demo');
  if (!response.ok) throw new Error('the local stack did not describe its demo course (/dev/demo)');
  /** @type {{courseId: string | null, users: {userId: string, role: string}[], note: string}} */
  const demo = await response.json();
  if (!demo.courseId) throw new Error(`the demo course is missing: ${demo.note}`);

  // ?user= picks the user, so two tabs (or two test browsers) can be two editors,
  // and a reload keeps the user; ?course= the course (the demo course by default).
  const params = new URLSearchParams(location.search);
  const requested = params.get('user');
  const demoCourse = demo.courseId;
  let courseId = params.get('course') ?? demoCourse;
  let userId = demo.users.some((u) => u.userId === requested) ? /** @type {string} */ (requested) : demo.users[0].userId;

  const select = /** @type {HTMLSelectElement} */ (byId('user-select'));
  select.replaceChildren(...demo.users.map((u) => h('option', { value: u.userId }, `${u.userId} (${u.role})`)));
  select.value = userId;

  /** @type {Session | null} */
  let session = null;
  const open = () => {
    session?.stop();
    byId('notice').hidden = true;
    byId('events').replaceChildren();
    session = new Session(userId, courseId, (picked) => {
      courseId = picked;
      params.set('course', picked);
      history.replaceState(null, '', `?${params}`);
      open();
    });
    session.start();
  };
  open();
  byId('player-close').addEventListener('click', closePlayer);

  byId('library-file').addEventListener('change', (e) => {
    const input = /** @type {HTMLInputElement} */ (e.target);
    const file = input.files?.[0];
    input.value = '';
    if (file) session?.upload(file, { type: 'library' });
  });

  select.addEventListener('change', () => {
    userId = select.value;
    params.set('user', userId);
    // Another user may not be in the course that was open: start from the demo course.
    courseId = demoCourse;
    params.delete('course');
    history.replaceState(null, '', `?${params}`);
    open();
  });
}

main().catch(showError);
