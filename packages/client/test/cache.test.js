import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ResourceCache } from '../src/cache.js';
import { T0, chapter, envelope, fakeApi, item, media, until } from './fakes.js';

const CHAPTER_PATHS = ['/courses/c_1', '/courses/c_1/chapters', '/courses/c_1/chapters/ch_1'];

/** A cache holding the course, its chapter list and ana's library, as the demo page does. */
async function loadedCache(userId = 'ana') {
  const state = {
    course: { courseId: 'c_1', title: 'Course', createdBy: 'olga', createdAt: T0, members: [], chapters: [chapter(1)] },
    chapters: { chapters: [chapter(1)] },
    media: { items: [media('m_old')], nextToken: null },
  };
  const { api, calls } = fakeApi({
    'GET /courses/c_1': () => [200, state.course],
    'GET /courses/c_1/chapters': () => [200, state.chapters],
    'GET /media': () => [200, state.media],
  });
  const cache = new ResourceCache({ api, userId });
  for (const path of ['/courses/c_1', '/courses/c_1/chapters', '/media']) await cache.load(path);
  calls.length = 0;
  return { cache, calls, state };
}

describe('ResourceCache', () => {
  it('puts the chapter from chapter.updated into the course and the chapter list without a request', async () => {
    const { cache, calls } = await loadedCache();
    cache.applyEvent(envelope('chapter.updated', { data: { chapter: chapter(2, [item('m_1')]) }, resources: CHAPTER_PATHS }));
    assert.deepEqual(cache.get('/courses/c_1').chapters[0].items.map((i) => i.mediaId), ['m_1']);
    assert.deepEqual(cache.get('/courses/c_1/chapters').chapters[0].items.map((i) => i.mediaId), ['m_1']);
    assert.equal(calls.length, 0);
  });

  it('tells every watcher of a changed path', async () => {
    const { cache } = await loadedCache();
    const seen = [];
    cache.watch('/courses/c_1/chapters', (v) => seen.push(v.chapters[0].version));
    cache.applyEvent(envelope('chapter.updated', { data: { chapter: chapter(2) }, resources: CHAPTER_PATHS }));
    assert.deepEqual(seen, [1, 2]);
  });

  it('ignores a chapter older than the one it holds (a replayed or late event)', async () => {
    const { cache } = await loadedCache();
    cache.applyEvent(envelope('chapter.updated', { data: { chapter: chapter(3, [item('m_1')]) }, resources: CHAPTER_PATHS }));
    cache.applyEvent(envelope('chapter.updated', { data: { chapter: chapter(2) }, resources: CHAPTER_PATHS }));
    assert.equal(cache.get('/courses/c_1/chapters').chapters[0].version, 3);
    assert.equal(cache.get('/courses/c_1').chapters[0].items.length, 1);
  });

  it('adds a chapter it has not seen, in position order', async () => {
    const { cache } = await loadedCache();
    const first = { ...chapter(1), chapterId: 'ch_0', position: -1 };
    cache.applyEvent(envelope('chapter.updated', { data: { chapter: first }, resources: CHAPTER_PATHS }));
    assert.deepEqual(cache.get('/courses/c_1/chapters').chapters.map((c) => c.chapterId), ['ch_0', 'ch_1']);
  });

  it('media.linked updates the chapter and the owner\'s library entry', async () => {
    const { cache, calls } = await loadedCache();
    const linked = { ...media('m_old'), links: [{ courseId: 'c_1', chapterId: 'ch_1' }] };
    cache.applyEvent(envelope('media.linked', { data: { media: linked, chapter: chapter(2, [item('m_old')]) }, resources: [...CHAPTER_PATHS, '/media', '/media/m_old'] }));
    assert.deepEqual(cache.get('/media').items[0].links, [{ courseId: 'c_1', chapterId: 'ch_1' }]);
    assert.equal(cache.get('/courses/c_1/chapters').chapters[0].items[0].mediaId, 'm_old');
    assert.equal(calls.length, 0);
  });

  it('keeps another member\'s media out of this user\'s library', async () => {
    const { cache, calls } = await loadedCache('ben');
    cache.applyEvent(envelope('media.linked', { data: { media: media('m_ana', 'ana'), chapter: chapter(2, [item('m_ana')]) }, resources: [...CHAPTER_PATHS, '/media', '/media/m_ana'] }));
    assert.deepEqual(cache.get('/media').items.map((m) => m.mediaId), ['m_old']);
    assert.equal(cache.get('/courses/c_1').chapters[0].items[0].mediaId, 'm_ana');
    assert.equal(calls.length, 0);
  });

  it('takes a processed file\'s new state from media.updated, refetching nothing', async () => {
    const { cache, calls } = await loadedCache();
    const ready = { ...media('m_old'), status: 'ready', durationSeconds: 60, width: 320, height: 240, hasPoster: true };
    cache.applyEvent(envelope('media.updated', { channel: 'user:ana', data: { media: ready }, resources: ['/media', '/media/m_old'] }));
    assert.equal(cache.get('/media').items[0].durationSeconds, 60);
    assert.equal(cache.get('/media').items[0].hasPoster, true);
    assert.equal(calls.length, 0);
  });

  it('adds the uploader\'s new media file to their library on upload.completed', async () => {
    const { cache } = await loadedCache();
    const upload = { operationId: 'op_1', userId: 'ana', filename: 'm_new.mp4', size: 1, status: 'completed', target: { type: 'library' }, bytesUploaded: 1, mediaId: 'm_new' };
    cache.applyEvent(envelope('upload.completed', { channel: 'user:ana', data: { upload, media: media('m_new') }, resources: ['/uploads/op_1', '/media', '/media/m_new'] }));
    assert.deepEqual(cache.get('/media').items.map((m) => m.mediaId), ['m_new', 'm_old']);
  });

  it('refetches the held resources an event names when it carries no data', async () => {
    const { cache, calls, state } = await loadedCache();
    state.chapters = { chapters: [chapter(9)] };
    cache.applyEvent(envelope('chapter.updated', { data: null, resources: [...CHAPTER_PATHS, '/never/loaded'] }));
    await until(() => cache.get('/courses/c_1/chapters').chapters[0].version === 9);
    assert.deepEqual(calls.map((c) => c.path).sort(), ['/courses/c_1', '/courses/c_1/chapters']);
  });

  it('refetches what an unknown event type names, so a newer server cannot leave it stale', async () => {
    const { cache, calls } = await loadedCache();
    cache.applyEvent(envelope('chapter.renamed', { data: { anything: 1 }, resources: ['/courses/c_1'] }));
    await until(() => calls.length === 1);
    assert.equal(calls[0].path, '/courses/c_1');
  });

  it('shows progress for library and chapter uploads from the same event type', async () => {
    const { cache } = await loadedCache();
    for (const [operationId, target] of [['op_lib', { type: 'library' }], ['op_ch', { type: 'chapter', courseId: 'c_1', chapterId: 'ch_1' }]]) {
      cache.applyEvent(envelope('upload.progress', { operationId, data: { bytesUploaded: 5, totalBytes: 10, percent: 50, bytesPerSecond: 1, etaSeconds: 5, filename: 'a.mp4', target } }));
    }
    assert.deepEqual(cache.uploads().map((u) => [u.operationId, u.bytesUploaded, u.target.type]), [['op_lib', 5, 'library'], ['op_ch', 5, 'chapter']]);
  });

  it('never moves progress backwards, nor at all once the upload ended', async () => {
    const { cache } = await loadedCache();
    const progress = (bytesUploaded) => envelope('upload.progress', { operationId: 'op_1', data: { bytesUploaded, totalBytes: 10, percent: bytesUploaded * 10, bytesPerSecond: null, etaSeconds: null, filename: 'a.mp4', target: { type: 'library' } } });
    cache.applyEvent(progress(6));
    cache.applyEvent(progress(4));
    assert.equal(cache.uploads()[0].bytesUploaded, 6);
    const upload = { operationId: 'op_1', userId: 'ana', filename: 'a.mp4', size: 10, status: 'aborted', target: { type: 'library' }, bytesUploaded: 6, mediaId: null };
    cache.applyEvent(envelope('upload.aborted', { data: { upload, reason: 'user' } }));
    cache.applyEvent(progress(8));
    cache.applyEvent(envelope('upload.started', { data: { upload: { ...upload, status: 'uploading' } } }));
    assert.deepEqual([cache.uploads()[0].status, cache.uploads()[0].bytesUploaded], ['aborted', 6]);
  });

  it('fetches once more when asked to refetch during a fetch', async () => {
    let version = 1;
    let release;
    const { api, calls } = fakeApi({
      'GET /courses/c_1/chapters': async () => {
        const v = version;
        if (calls.length === 1) await new Promise((r) => (release = r));
        return [200, { chapters: [chapter(v)] }];
      },
    });
    const cache = new ResourceCache({ api, userId: 'ana' });
    const first = cache.load('/courses/c_1/chapters');
    await until(() => release);
    version = 2;
    cache.load('/courses/c_1/chapters');
    release();
    await first;
    assert.equal(cache.get('/courses/c_1/chapters').chapters[0].version, 2);
  });
});

describe('ResourceCache upload status', () => {
  it('keeps an upload completing when a late upload.started arrives', async () => {
    const { api } = fakeApi({});
    const cache = new ResourceCache({ api, userId: 'ana' });
    const target = { type: 'library' };
    cache.applyProgress('op_1', { bytesUploaded: 10, totalBytes: 10, filename: 'a.mp4', target });
    cache.setUploadStatus('op_1', 'completing');
    const upload = { operationId: 'op_1', userId: 'ana', filename: 'a.mp4', size: 10, status: 'uploading', target, bytesUploaded: 0, mediaId: null };
    cache.applyEvent(envelope('upload.started', { channel: 'user:ana', data: { upload } }));
    assert.deepEqual([cache.uploads()[0].status, cache.uploads()[0].bytesUploaded, cache.uploads()[0].userId], ['completing', 10, 'ana']);
  });
});
