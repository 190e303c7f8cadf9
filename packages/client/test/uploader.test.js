import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { Uploader } from '../src/uploader.js';
import { MemoryStorage, fakeApi, tick } from './fakes.js';

const MiB = 1024 * 1024;
const TARGET = { type: 'chapter', courseId: 'c_1', chapterId: 'ch_1' };

function file(size, { name = 'lecture.mp4', lastModified = 1_700_000_000_000 } = {}) {
  return new File([new Uint8Array(size)], name, { type: 'video/mp4', lastModified });
}

/**
 * A server with one open upload and an S3 that stores parts. `s3` decides the
 * answer to each PUT (default: 200 with an ETag).
 */
function stack({ size, partSize = 5 * MiB, held = [], urlTtlMs = 300_000, s3 } = {}) {
  const partCount = Math.ceil(size / partSize);
  const upload = {
    operationId: 'op_1', uploadId: 'u1', userId: 'ana', key: 'uploads/ana/op_1/lecture.mp4',
    filename: 'lecture.mp4', contentType: 'video/mp4', size, partSize, partCount,
    status: 'uploading', target: TARGET, bytesUploaded: 0, mediaId: null,
    expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
  };
  let signings = 0;
  const { api, calls } = fakeApi({
    'POST /uploads': () => [201, upload],
    'GET /uploads/op_1': () => [200, { ...upload, parts: held }],
    'POST /uploads/op_1/parts': (body) => {
      signings++;
      const urls = Object.fromEntries(body.partNumbers.map((n) => [String(n), `https://s3.test/${n}?sig=${signings}`]));
      return [200, { urls, expiresAt: new Date(Date.now() + urlTtlMs).toISOString() }];
    },
    'POST /uploads/op_1/progress': () => [202, {}],
    'POST /uploads/op_1/complete': () => [202, { ...upload, status: 'completing' }],
    'DELETE /uploads/op_1': () => [200, { ...upload, status: 'aborted' }],
  });
  const puts = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const putPart = async (url, body, { onProgress }) => {
    puts.push(url);
    const nth = puts.length;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await tick(1);
    onProgress(body.size / 2);
    await tick(1);
    inFlight--;
    const answer = s3?.(url, nth) ?? null;
    if (answer) return answer;
    onProgress(body.size);
    return { status: 200, etag: `"etag-${url.split('?')[0].split('/').pop()}"` };
  };
  return { api, calls, puts, putPart, upload, get maxInFlight() { return maxInFlight; } };
}

function uploader(s, extra = {}) {
  return new Uploader({ api: s.api, putPart: s.putPart, storage: new MemoryStorage(), backoff: { baseMs: 1, maxMs: 2 }, ...extra });
}

const paths = (calls, method, path) => calls.filter((c) => c.method === method && c.path === path);

describe('Uploader', () => {
  it('sends every part and completes with the parts in order', async () => {
    const s = stack({ size: 22 * MiB });
    await uploader(s).upload(file(22 * MiB), TARGET).done;
    assert.equal(s.puts.length, 5);
    const [complete] = paths(s.calls, 'POST', '/uploads/op_1/complete');
    assert.deepEqual(complete.body.parts.map((p) => p.partNumber), [1, 2, 3, 4, 5]);
    assert.equal(complete.body.parts[2].etag, '"etag-3"');
  });

  it('keeps no more parts in flight than its concurrency', async () => {
    const s = stack({ size: 40 * MiB });
    await uploader(s, { concurrency: 3 }).upload(file(40 * MiB), TARGET).done;
    assert.equal(s.maxInFlight, 3);
  });

  it('signs part URLs in batches rather than one call per part', async () => {
    const s = stack({ size: 40 * MiB });
    await uploader(s, { concurrency: 2, presignBatch: 4 }).upload(file(40 * MiB), TARGET).done;
    const signings = paths(s.calls, 'POST', '/uploads/op_1/parts');
    assert.ok(signings.length <= 3, `${signings.length} signing calls for 8 parts`);
    const signed = signings.flatMap((c) => c.body.partNumbers).sort((a, b) => a - b);
    assert.deepEqual(signed, [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('retries a part that failed with a server error and still completes', async () => {
    const s = stack({ size: 12 * MiB, s3: (url, n) => (n === 1 ? { status: 503, etag: null } : null) });
    await uploader(s).upload(file(12 * MiB), TARGET).done;
    assert.equal(s.puts.length, 4);
    assert.equal(paths(s.calls, 'POST', '/uploads/op_1/complete').length, 1);
  });

  it('retries a part whose connection failed', async () => {
    const s = stack({ size: 6 * MiB, s3: (url, n) => (n === 1 ? { status: 0, etag: null } : null) });
    await uploader(s).upload(file(6 * MiB), TARGET).done;
    assert.equal(s.puts.length, 3);
  });

  it('signs a part again when S3 refuses its URL with 403', async () => {
    const s = stack({ size: 6 * MiB, s3: (url) => (url.endsWith('sig=1') && url.includes('/1?') ? { status: 403, etag: null } : null) });
    await uploader(s, { concurrency: 1 }).upload(file(6 * MiB), TARGET).done;
    assert.ok(s.puts.includes('https://s3.test/1?sig=2'), s.puts.join(' '));
  });

  it('signs again before use a URL that is about to expire', async () => {
    let clock = Date.now();
    // Each part takes 20 s of the fake clock; URLs live 60 s, with a 30 s margin.
    const s = stack({ size: 11 * MiB, urlTtlMs: 60_000, s3: () => ((clock += 20_000), null) });
    const u = uploader(s, { concurrency: 1, presignBatch: 3, expiryMarginMs: 30_000, now: () => clock });
    await u.upload(file(11 * MiB), TARGET).done;
    const signings = paths(s.calls, 'POST', '/uploads/op_1/parts');
    assert.deepEqual(signings.map((c) => c.body.partNumbers), [[1, 2, 3], [3]]);
  });

  it('uses a URL whose lifetime is shorter than the safety margin instead of signing forever', async () => {
    const s = stack({ size: 11 * MiB, urlTtlMs: 10_000 });
    await uploader(s, { concurrency: 1, presignBatch: 3, expiryMarginMs: 30_000 }).upload(file(11 * MiB), TARGET).done;
    assert.equal(paths(s.calls, 'POST', '/uploads/op_1/parts').length, 1);
  });

  it('fails the upload after the last attempt and says why', async () => {
    const s = stack({ size: 6 * MiB, s3: () => ({ status: 500, etag: null }) });
    const task = uploader(s, { maxAttempts: 3 }).upload(file(6 * MiB), TARGET);
    await assert.rejects(task.done, /HTTP 500/);
    assert.equal(task.state, 'failed');
    assert.equal(paths(s.calls, 'POST', '/uploads/op_1/complete').length, 0);
  });

  it('fails clearly when the ETag header is not readable (bucket CORS)', async () => {
    const s = stack({ size: 1 * MiB, s3: () => ({ status: 200, etag: null }) });
    await assert.rejects(uploader(s).upload(file(1 * MiB), TARGET).done, /expose ETag/);
  });

  it('continues an open upload of the same file, sending only the missing parts', async () => {
    const held = [1, 2].map((n) => ({ partNumber: n, etag: `"held-${n}"`, size: 5 * MiB }));
    const s = stack({ size: 22 * MiB, held });
    const u = uploader(s);
    const f = file(22 * MiB);
    u.storage.setItem(u.storageKey(f, TARGET), JSON.stringify({ operationId: 'op_1', name: f.name, size: f.size, lastModified: f.lastModified }));
    const task = u.upload(f, TARGET);
    await task.done;
    assert.equal(paths(s.calls, 'POST', '/uploads').length, 0);
    assert.equal(task.partsSkipped, 2);
    assert.deepEqual(s.puts.map((p) => p.split('?')[0]).sort(), ['https://s3.test/3', 'https://s3.test/4', 'https://s3.test/5']);
    const [complete] = paths(s.calls, 'POST', '/uploads/op_1/complete');
    assert.equal(complete.body.parts[0].etag, '"held-1"');
  });

  it('starts a new upload for a file with the same name and size but another modification time', async () => {
    const s = stack({ size: 6 * MiB, held: [{ partNumber: 1, etag: '"x"', size: 5 * MiB }] });
    const u = uploader(s);
    const old = file(6 * MiB, { lastModified: 1 });
    u.storage.setItem(u.storageKey(old, TARGET), JSON.stringify({ operationId: 'op_1' }));
    await u.upload(file(6 * MiB, { lastModified: 2 }), TARGET).done;
    assert.equal(paths(s.calls, 'POST', '/uploads').length, 1);
    assert.equal(s.puts.length, 2);
  });

  it('lists the open uploads this browser can continue', async () => {
    const s = stack({ size: 6 * MiB });
    const { api } = fakeApi({ 'GET /uploads': () => [200, { uploads: [s.upload, { ...s.upload, operationId: 'op_other' }] }] });
    const u = new Uploader({ api, storage: new MemoryStorage() });
    const f = file(6 * MiB);
    u.storage.setItem(u.storageKey(f, TARGET), JSON.stringify({ operationId: 'op_1', name: f.name, size: f.size, lastModified: f.lastModified }));
    const found = await u.resumable();
    assert.deepEqual(found.map((r) => [r.upload.operationId, r.file.name]), [['op_1', 'lecture.mp4']]);
  });

  it('forgets the file once the upload completes, so the next choice starts afresh', async () => {
    const s = stack({ size: 1 * MiB });
    const u = uploader(s);
    await u.upload(file(1 * MiB), TARGET).done;
    assert.equal(u.storage.length, 0);
  });

  it('reports progress to the API at most once per interval, ending at the full size', async () => {
    const s = stack({ size: 30 * MiB });
    const local = [];
    const task = uploader(s, { reportIntervalMs: 1000 }).upload(file(30 * MiB), TARGET, { onProgress: (p) => local.push(p.bytesUploaded) });
    await task.done;
    const reports = paths(s.calls, 'POST', '/uploads/op_1/progress');
    assert.ok(local.length >= 12, `${local.length} local updates`);
    assert.ok(reports.length <= 2, `${reports.length} reports in well under a second`);
    assert.equal(reports.at(-1).body.bytesUploaded, 30 * MiB);
  });

  it('aborts: stops sending, deletes the upload and rejects', async () => {
    const s = stack({ size: 40 * MiB });
    const u = uploader(s, { concurrency: 1 });
    const task = u.upload(file(40 * MiB), TARGET);
    while (s.puts.length < 2) await tick(1);
    await task.abort();
    await assert.rejects(task.done, { name: 'AbortError' });
    const sent = s.puts.length;
    await tick(20);
    assert.equal(s.puts.length, sent);
    assert.equal(paths(s.calls, 'DELETE', '/uploads/op_1').length, 1);
    assert.equal(u.storage.length, 0);
    assert.equal(task.state, 'aborted');
  });
});
