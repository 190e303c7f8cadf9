// A React page built the way the platform this product serves built its own
// (Next.js + TanStack Query): a course edit page whose header reads the course
// from ['courses', 'detail', id] and whose ChapterManager reads chapters from a
// separate ['chapters', 'list', id] query, and a media-library page that knows
// no course at all and reads its files from ['media-files']. The only thing it
// adds is @course-media/client's binding, told once which key holds which
// REST path. tests/browser/test_react_binding.py bundles it with esbuild.

import { ApiClient, RealtimeClient } from '@course-media/client';
import { useCourseMediaQueries, useUploads } from '@course-media/client/react';
import { QueryClient, QueryClientProvider, useQuery } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

const params = new URLSearchParams(location.search);
const userId = params.get('user');
const courseId = params.get('course'); // absent on the media-library page

async function token() {
  const response = await fetch(`/dev/token?user=${encodeURIComponent(userId)}`);
  return (await response.json()).token;
}

const api = new ApiClient({ baseUrl: '/api', token });
const realtime = new RealtimeClient({
  url: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`,
  token,
});
window.__subscribed = [];
realtime.onControl((message) => {
  if (message.type === 'subscribed') window.__subscribed.push(message.data.channel);
});
realtime.subscribe(`user:${userId}`);
if (courseId) realtime.subscribe(`course:${courseId}`);
realtime.connect();

// The old platform's query keys, unchanged.
const courseKeys = { detail: (id) => ['courses', 'detail', id] };
const chapterKeys = { list: (id) => ['chapters', 'list', id] };
const mediaKeys = { all: ['media-files'] };

// Said once: which query holds which REST path.
const routes = {
  '/courses/{courseId}': courseKeys.detail('{courseId}'),
  '/courses/{courseId}/chapters': chapterKeys.list('{courseId}'),
  '/media': mediaKeys.all,
};

const useCourseEdit = (id) => useQuery({ queryKey: courseKeys.detail(id), queryFn: () => api.get(`/courses/${id}`) });
const useChaptersEdit = (id) => useQuery({ queryKey: chapterKeys.list(id), queryFn: () => api.get(`/courses/${id}/chapters`) });
const useMediaFiles = () => useQuery({ queryKey: mediaKeys.all, queryFn: () => api.get('/media') });

function CourseHeader({ id }) {
  const { data } = useCourseEdit(id);
  if (!data) return <p>Loading course…</p>;
  const videos = data.chapters.flatMap((chapter) => chapter.items);
  return (
    <section id="course-view">
      <h1>{data.title}</h1>
      <ul>
        {videos.map((item) => (
          <li key={item.mediaId} className="item">{item.filename}</li>
        ))}
      </ul>
    </section>
  );
}

function ChapterManager({ id }) {
  const { data } = useChaptersEdit(id);
  if (!data) return <p>Loading chapters…</p>;
  return (
    <section id="chapters-view">
      {data.chapters.map((chapter) => (
        <article key={chapter.chapterId} data-chapter-id={chapter.chapterId}>
          <h2>{chapter.title}</h2>
          <ul>
            {chapter.items.map((item) => (
              <li key={item.mediaId} className="item">{item.filename}</li>
            ))}
          </ul>
        </article>
      ))}
    </section>
  );
}

function MediaLibrary() {
  const { data } = useMediaFiles();
  const uploads = Object.values(useUploads()).filter((u) => u.target.type === 'library');
  return (
    <section id="library-view">
      <h1>Media library</h1>
      <ul className="uploads">
        {uploads.map((u) => (
          <li key={u.operationId} data-operation-id={u.operationId} data-status={u.status}>
            {u.filename} <progress max={u.totalBytes} value={u.bytesUploaded} />
          </li>
        ))}
      </ul>
      <ul className="files">
        {(data?.items ?? []).map((file) => (
          <li key={file.mediaId} className="item">{file.filename}</li>
        ))}
      </ul>
    </section>
  );
}

function App() {
  useCourseMediaQueries({ realtime, userId, routes });
  return courseId ? (
    <>
      <CourseHeader id={courseId} />
      <ChapterManager id={courseId} />
    </>
  ) : (
    <MediaLibrary />
  );
}

const queryClient = new QueryClient();
createRoot(document.getElementById('root')).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
