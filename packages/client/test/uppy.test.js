import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';

import { UppyProgress } from '../src/uppy.js';
import { tick } from './fakes.js';

/** What the plugin uses of Uppy: events and getFile, as @uppy/core has them. */
class FakeUppy extends EventEmitter {
  files = new Map();
  plugins = [];
  use(Plugin, options) {
    const plugin = new Plugin(this, options);
    assert.ok(plugin.id && plugin.type, 'Uppy refuses a plugin without id and type');
    plugin.install();
    this.plugins.push(plugin);
    return this;
  }
  getFile(id) {
    return this.files.get(id);
  }
  add(id, size, key) {
    this.files.set(id, { id, size, s3Multipart: key ? { key, uploadId: 'u' } : undefined });
  }
}

function recorder() {
  const posts = [];
  return { posts, api: { post: async (path, body) => (posts.push([path, body.bytesUploaded]), {}) } };
}

describe('UppyProgress', () => {
  it('reports Companion-mode progress from the key Uppy keeps in s3Multipart', async () => {
    const uppy = new FakeUppy();
    const { api, posts } = recorder();
    uppy.use(UppyProgress, { api, intervalMs: 20 });
    uppy.add('f1', 100, 'uploads/ana/op_1/a.mp4');
    uppy.emit('upload-progress', uppy.getFile('f1'), { bytesUploaded: 10, bytesTotal: 100 });
    assert.deepEqual(posts, [['/uploads/op_1/progress', 10]]);
  });

  it('sends at most one report per interval, and the last value of a burst after it', async () => {
    const uppy = new FakeUppy();
    const { api, posts } = recorder();
    uppy.use(UppyProgress, { api, intervalMs: 40 });
    uppy.add('f1', 100, 'uploads/ana/op_1/a.mp4');
    for (const bytes of [10, 20, 30, 40]) uppy.emit('upload-progress', uppy.getFile('f1'), { bytesUploaded: bytes });
    assert.deepEqual(posts, [['/uploads/op_1/progress', 10]]);
    await tick(70);
    assert.deepEqual(posts, [['/uploads/op_1/progress', 10], ['/uploads/op_1/progress', 40]]);
  });

  it('never reports backwards', async () => {
    const uppy = new FakeUppy();
    const { api, posts } = recorder();
    uppy.use(UppyProgress, { api, intervalMs: 1 });
    uppy.add('f1', 100, 'uploads/ana/op_1/a.mp4');
    uppy.emit('upload-progress', uppy.getFile('f1'), { bytesUploaded: 50 });
    await tick(5);
    uppy.emit('upload-progress', uppy.getFile('f1'), { bytesUploaded: 30 }); // a retried chunk
    await tick(5);
    assert.deepEqual(posts.map(([, b]) => b), [50]);
  });

  it('in signRequest mode uses the key the API chose, not the one Uppy proposed', async () => {
    const uppy = new FakeUppy();
    const { api, posts } = recorder();
    uppy.use(UppyProgress, { api, intervalMs: 1 });
    uppy.add('uppy-file-1', 100, 'uppy-file-1'); // Uppy 6.0 keeps its own key
    uppy.emit('upload-progress', uppy.getFile('uppy-file-1'), { bytesUploaded: 5 });
    assert.deepEqual(posts, [], 'no operation id yet: nothing sent');
    uppy.plugins[0].rememberKey('uppy-file-1', 'uploads/ana/op_9/a.mp4');
    uppy.emit('upload-progress', uppy.getFile('uppy-file-1'), { bytesUploaded: 6 });
    assert.deepEqual(posts, [['/uploads/op_9/progress', 6]]);
  });

  it('sends what is pending when the file finishes, and nothing after', async () => {
    const uppy = new FakeUppy();
    const { api, posts } = recorder();
    uppy.use(UppyProgress, { api, intervalMs: 1000 });
    uppy.add('f1', 100, 'uploads/ana/op_1/a.mp4');
    uppy.emit('upload-progress', uppy.getFile('f1'), { bytesUploaded: 10 });
    uppy.emit('upload-progress', uppy.getFile('f1'), { bytesUploaded: 100 });
    uppy.emit('upload-success', uppy.getFile('f1'), {});
    await tick(5);
    assert.deepEqual(posts.map(([, b]) => b), [10, 100]);
  });

  it('uninstall stops reporting', async () => {
    const uppy = new FakeUppy();
    const { api, posts } = recorder();
    uppy.use(UppyProgress, { api, intervalMs: 1 });
    uppy.plugins[0].uninstall();
    uppy.add('f1', 100, 'uploads/ana/op_1/a.mp4');
    uppy.emit('upload-progress', uppy.getFile('f1'), { bytesUploaded: 10 });
    assert.deepEqual(posts, []);
  });
});
