// React hooks for the TanStack Query binding (@tanstack/react-query): one call
// near the root keeps every query of the app current from the WebSocket, and
// any component reads an upload's progress by its operationId.
//
//   const binding = useCourseMediaQueries({ realtime, userId, routes });
//   const upload = useUpload(operationId); // {bytesUploaded, totalBytes, status, ...}

/** @import { QueryKey } from '@tanstack/react-query' */
/** @import { RealtimeClient } from './realtime.js' */
/** @import { Routes } from './tanstack.js' */
/** @import { UploadView } from './uploads.js' */

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useMemo, useRef } from 'react';

import { QueryBinding, UPLOADS_KEY } from './tanstack.js';

/**
 * The binding for the QueryClient in context, connected to `realtime` while
 * the component is mounted. `routes` and `uploadsKey` are read when the
 * binding is made (on the first render, and when the client or user changes).
 *
 * @param {object} options
 * @param {RealtimeClient | null} options.realtime null until there is one (signed out)
 * @param {string} options.userId
 * @param {Routes} [options.routes]
 * @param {QueryKey} [options.uploadsKey]
 * @returns {QueryBinding}
 */
export function useCourseMediaQueries({ realtime, userId, routes, uploadsKey }) {
  const queryClient = useQueryClient();
  const options = useRef({ routes, uploadsKey });
  const binding = useMemo(
    () => new QueryBinding({ queryClient, userId, ...options.current }),
    [queryClient, userId],
  );
  useEffect(() => (realtime ? binding.connect(realtime) : undefined), [binding, realtime]);
  return binding;
}

/**
 * Every upload the binding knows of, by operationId, library and chapter
 * uploads alike; re-renders on each change.
 * @param {QueryKey} [uploadsKey]
 * @returns {Record<string, UploadView>}
 */
export function useUploads(uploadsKey = UPLOADS_KEY) {
  const queryClient = useQueryClient();
  /** @returns {Record<string, UploadView>} */
  const held = () => queryClient.getQueryData(uploadsKey) ?? {};
  // Client state in the QueryClient: nothing to fetch, never stale.
  const { data } = useQuery({
    queryKey: uploadsKey,
    queryFn: held,
    initialData: held,
    staleTime: Infinity,
    gcTime: Infinity,
  });
  return data;
}

/**
 * One upload's progress and state, or undefined until an event or this tab's
 * uploader has said anything about it.
 * @param {string | null | undefined} operationId
 * @param {QueryKey} [uploadsKey]
 * @returns {UploadView | undefined}
 */
export function useUpload(operationId, uploadsKey = UPLOADS_KEY) {
  const uploads = useUploads(uploadsKey);
  return operationId ? uploads[operationId] : undefined;
}
