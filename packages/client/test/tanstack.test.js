import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { QueryClient } from '@tanstack/query-core';

import { QueryBinding, UPLOADS_KEY } from '../src/tanstack.js';
import { T0, chapter, envelope, item, media, tick } from './fakes.js';

function upload(operationId, target, status = 'uploading', bytesUploaded = 0) {
  return {
    operationId, uploadId: 'u', userId: 'ana', key: `uploads/ana/${operationId}/a.mp4`, filename: 'a.mp4', contentType: 'video/mp4',
    size: 100, partSize: 10, partCount: 10, status, target, bytesUploaded, mediaId: null, reason: null, createdAt: T0, updatedAt: T0, expiresAt: T0,
  };
}
const CHAPTER_PATHS = ['/courses/c_1', '/courses/c_1/chapters', '/courses/c_1/chapters/ch_1'];
// The old platform's keys: a course query and a separate chapters query.
const OLD_PLATFORM = {
  '/courses/{courseId}': ['courses', 'detail', '{courseId}'],
  '/courses/{courseId}/chapters': ['chapters', 'list', '{courseId}'],
  '/media': ['media-files'],
};

/** A QueryClient holding what the old platform's course edit page and library held, with counted fetches. */
function oldPlatformPage(userId = 'ana') {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const fetches = [];
  const fetcher = (name, value) => async () => {
    fetches.push(name);
    return value;
  };
  const queries = {
    course: { queryKey: ['courses', 'detail', 'c_1'], queryFn: fetcher('course', { courseId: 'c_1', title: 'C', createdBy: 'olga', createdAt: T0, members: [], chapters: [chapter(1)] }) },
    chapters: { queryKey: ['chapters', 'list', 'c_1'], queryFn: fetcher('chapters', { chapters: [chapter(1)] }) },
    library: { queryKey: ['media-files'], queryFn: fetcher('library', { items: [media('m_old')], nextToken: null }) },
  };
  const binding = new QueryBinding({ queryClient, userId, routes: OLD_PLATFORM });
  return { queryClient, binding, queries, fetches };
}

async function loaded(page) {
  const { queryClient, queries, fetches } = page;
  const { QueryObserver } = await import('@tanstack/query-core');
  const observers = Object.values(queries).map((q) => new QueryObserver(queryClient, q));
  const stops = observers.map((o) => o.subscribe(() => {}));
  await Promise.all(Object.values(queries).map((q) => queryClient.fetchQuery(q)));
  fetches.length = 0;
  return () => stops.forEach((stop) => stop());
}

describe('QueryBinding', () => {
  it('maps REST paths to the query keys it was given, and others to their segments', () => {
    const { binding } = oldPlatformPage();
    assert.deepEqual(binding.queryKey('/courses/c_1'), ['courses', 'detail', 'c_1']);
    assert.deepEqual(binding.queryKey('/courses/c_1/chapters'), ['chapters', 'list', 'c_1']);
    assert.deepEqual(binding.queryKey('/courses/c_1/chapters/ch_1'), ['courses', 'c_1', 'chapters', 'ch_1']);
    assert.equal(binding.pathOf(['chapters', 'list', 'c_1']), '/courses/c_1/chapters');
    assert.equal(binding.pathOf(['courses', 'c_1', 'chapters', 'ch_1']), '/courses/c_1/chapters/ch_1');
    assert.equal(binding.pathOf(['courses', 'c_1']), null, 'a route claims /courses/{id}: that default key is not its');
    assert.equal(binding.pathOf(['profile']), null, 'an app query that is not this API\'s');
  });

  it('a link into a chapter sets the course query and the separate chapters query, with no fetch', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    const linked = { ...media('m_old'), links: [{ courseId: 'c_1', chapterId: 'ch_1' }] };
    page.binding.applyEvent(envelope('media.linked', {
      data: { media: linked, chapter: chapter(2, [item('m_old')]) },
      resources: [...CHAPTER_PATHS, '/media', '/media/m_old'],
      channel: 'course:c_1', seq: 5, courseId: 'c_1',
    }));
    await tick(5);
    const { queryClient } = page;
    assert.deepEqual(queryClient.getQueryData(['courses', 'detail', 'c_1']).chapters[0].items.map((i) => i.mediaId), ['m_old']);
    assert.deepEqual(queryClient.getQueryData(['chapters', 'list', 'c_1']).chapters[0].items.map((i) => i.mediaId), ['m_old']);
    assert.deepEqual(queryClient.getQueryData(['media-files']).items[0].links, [{ courseId: 'c_1', chapterId: 'ch_1' }]);
    assert.deepEqual(page.fetches, []);
    stop();
  });

  it('drops a repeat by id: the copy on the user channel changes nothing', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    const event = envelope('chapter.updated', { id: 'evt_same', data: { chapter: chapter(2) }, resources: CHAPTER_PATHS });
    assert.equal(page.binding.applyEvent(event), true);
    assert.equal(page.binding.applyEvent({ ...event, channel: 'user:ana' }), false);
    stop();
  });

  it('ignores a chapter older than the one held', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    page.binding.applyEvent(envelope('chapter.updated', { data: { chapter: chapter(3, [item('m_1')]) }, resources: CHAPTER_PATHS }));
    page.binding.applyEvent(envelope('chapter.updated', { data: { chapter: chapter(2) }, resources: CHAPTER_PATHS }));
    assert.equal(page.queryClient.getQueryData(['chapters', 'list', 'c_1']).chapters[0].version, 3);
    stop();
  });

  it('invalidates what an event names but cannot set: data stripped from a large event', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    page.binding.applyEvent(envelope('chapter.updated', { data: null, resources: CHAPTER_PATHS }));
    await tick(5);
    assert.deepEqual(page.fetches.sort(), ['chapters', 'course']);
    stop();
  });

  it('invalidates the paths of an event type it does not know', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    page.binding.applyEvent(envelope('media.renamed', { data: { media: media('m_old') }, resources: ['/media'] }));
    await tick(5);
    assert.deepEqual(page.fetches, ['library']);
    stop();
  });

  it('a gap in a channel\'s seqs invalidates every query of that channel, and only those', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    page.binding.applyEvent(envelope('chapter.updated', { channel: 'course:c_1', seq: 7, data: { chapter: chapter(2) }, resources: CHAPTER_PATHS }));
    page.binding.applyEvent(envelope('chapter.updated', { channel: 'course:c_1', seq: 9, data: { chapter: chapter(3) }, resources: CHAPTER_PATHS }));
    await tick(5);
    assert.deepEqual(page.fetches.sort(), ['chapters', 'course']);
    stop();
  });

  it('replayComplete: false invalidates the channel\'s queries', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    page.binding.applyMessage({ v: 1, id: 'x', type: 'subscribed', channel: null, seq: null, at: T0, operationId: null, courseId: null, resources: [], data: { channel: 'user:ana', seq: 40, replayComplete: false } });
    await tick(5);
    assert.deepEqual(page.fetches, ['library']);
    stop();
  });

  it('keeps library and chapter upload progress in one map by operationId', async () => {
    const { queryClient, binding } = oldPlatformPage();
    const progress = (operationId, target, bytesUploaded) => envelope('upload.progress', {
      operationId, channel: 'user:ana',
      data: { bytesUploaded, totalBytes: 100, percent: bytesUploaded, bytesPerSecond: 10, etaSeconds: 1, filename: 'a.mp4', target },
    });
    binding.applyEvent(progress('op_lib', { type: 'library' }, 30));
    binding.applyEvent(progress('op_ch', { type: 'chapter', courseId: 'c_1', chapterId: 'ch_1' }, 60));
    binding.applyEvent(progress('op_lib', { type: 'library' }, 20)); // late: never backwards
    const uploads = queryClient.getQueryData(UPLOADS_KEY);
    assert.equal(uploads.op_lib.bytesUploaded, 30);
    assert.equal(uploads.op_ch.bytesUploaded, 60);
    binding.applyEvent(envelope('upload.completed', { operationId: 'op_lib', data: { upload: upload('op_lib', { type: 'library' }, 'completed', 100), media: media('m_new') }, resources: ['/media'] }));
    binding.applyEvent(progress('op_lib', { type: 'library' }, 90)); // after the end: ignored
    assert.equal(queryClient.getQueryData(UPLOADS_KEY).op_lib.status, 'completed');
    assert.equal(queryClient.getQueryData(UPLOADS_KEY).op_lib.bytesUploaded, 100);
  });

  it('connects to a RealtimeClient\'s events and resyncs', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    const listeners = { event: [], resync: [], control: [] };
    const realtime = {
      onEvent: (l) => (listeners.event.push(l), () => {}),
      onResync: (l) => (listeners.resync.push(l), () => {}),
      onControl: (l) => (listeners.control.push(l), () => {}),
    };
    page.binding.connect(realtime);
    listeners.event[0](envelope('chapter.updated', { data: { chapter: chapter(2, [item('m_9')]) }, resources: CHAPTER_PATHS }));
    assert.equal(page.queryClient.getQueryData(['chapters', 'list', 'c_1']).chapters[0].items[0].mediaId, 'm_9');
    listeners.resync[0]('course:c_1');
    await tick(5);
    assert.deepEqual(page.fetches.sort(), ['chapters', 'course']);
    stop();
  });

  it('refetches a channel\'s queries after its first subscribed reply, not after later ones', async () => {
    const page = oldPlatformPage();
    const stop = await loaded(page);
    const control = [];
    page.binding.connect({ onEvent: () => () => {}, onResync: () => () => {}, onControl: (l) => (control.push(l), () => {}) });
    const subscribed = { v: 1, id: 's', type: 'subscribed', channel: null, seq: null, at: T0, operationId: null, courseId: null, resources: [], data: { channel: 'course:c_1', seq: 3, replayComplete: null } };
    control[0](subscribed);
    await tick(5);
    assert.deepEqual(page.fetches.sort(), ['chapters', 'course']);
    control[0](subscribed); // a reconnect: `since` replays what was missed
    await tick(5);
    assert.deepEqual(page.fetches.sort(), ['chapters', 'course']);
    stop();
  });
});
