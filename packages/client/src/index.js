// @course-media/client: everything a browser front end needs to talk to the
// course-media API. See README.md; the TanStack Query binding is
// `@course-media/client/tanstack` (React: `@course-media/client/react`).

export { ApiClient, ApiError } from './api.js';
export { backoffDelay, sleep } from './backoff.js';
export { ResourceCache } from './cache.js';
export { RealtimeClient, tokenExpiry } from './realtime.js';
export { Uploader } from './uploader.js';

/**
 * @typedef {import('./types.js').RestPaths} RestPaths
 * @typedef {import('./types.js').RestOperations} RestOperations
 * @typedef {import('./types.js').RestSchemas} RestSchemas
 * @typedef {import('./types.js').Course} Course
 * @typedef {import('./types.js').Member} Member
 * @typedef {import('./types.js').Chapter} Chapter
 * @typedef {import('./types.js').ChapterItem} ChapterItem
 * @typedef {import('./types.js').ChapterList} ChapterList
 * @typedef {import('./types.js').MediaFile} MediaFile
 * @typedef {import('./types.js').MediaLink} MediaLink
 * @typedef {import('./types.js').Library} Library
 * @typedef {import('./types.js').Upload} Upload
 * @typedef {import('./types.js').UploadDetail} UploadDetail
 * @typedef {import('./types.js').UploadList} UploadList
 * @typedef {import('./types.js').UploadPart} UploadPart
 * @typedef {import('./types.js').PartsResponse} PartsResponse
 * @typedef {import('./types.js').ProgressAccepted} ProgressAccepted
 * @typedef {import('./types.js').ErrorBody} ErrorBody
 * @typedef {import('./types.js').UploadTarget} UploadTarget
 * @typedef {import('./types.js').UploadStatus} UploadStatus
 * @typedef {import('./types.js').CreateCourseRequest} CreateCourseRequest
 * @typedef {import('./types.js').CreateChapterRequest} CreateChapterRequest
 * @typedef {import('./types.js').PatchChapterRequest} PatchChapterRequest
 * @typedef {import('./types.js').LinkMediaRequest} LinkMediaRequest
 * @typedef {import('./types.js').PutMemberRequest} PutMemberRequest
 * @typedef {import('./types.js').InitiateUploadRequest} InitiateUploadRequest
 * @typedef {import('./types.js').PartsRequest} PartsRequest
 * @typedef {import('./types.js').CompleteUploadRequest} CompleteUploadRequest
 * @typedef {import('./types.js').ProgressRequest} ProgressRequest
 * @typedef {import('./types.js').ServerMessage} ServerMessage
 * @typedef {import('./types.js').ServerEvent} ServerEvent
 * @typedef {import('./types.js').ControlMessage} ControlMessage
 * @typedef {import('./types.js').ClientMessage} ClientMessage
 * @typedef {import('./types.js').UploadStartedEvent} UploadStartedEvent
 * @typedef {import('./types.js').UploadProgressEvent} UploadProgressEvent
 * @typedef {import('./types.js').UploadCompletedEvent} UploadCompletedEvent
 * @typedef {import('./types.js').UploadFailedEvent} UploadFailedEvent
 * @typedef {import('./types.js').UploadAbortedEvent} UploadAbortedEvent
 * @typedef {import('./types.js').MediaLinkedEvent} MediaLinkedEvent
 * @typedef {import('./types.js').MediaUnlinkedEvent} MediaUnlinkedEvent
 * @typedef {import('./types.js').ChapterUpdatedEvent} ChapterUpdatedEvent
 * @typedef {import('./types.js').UploadProgressData} UploadProgressData
 * @typedef {import('./types.js').SubscribedData} SubscribedData
 * @typedef {import('./types.js').ErrorData} ErrorData
 * @typedef {import('./uploads.js').UploadView} UploadView
 * @typedef {import('./uploads.js').ProgressReport} ProgressReport
 * @typedef {import('./tanstack.js').Routes} QueryRoutes
 * @typedef {import('./tanstack.js').BindingOptions} QueryBindingOptions
 * @typedef {import('./uppy.js').UppyProgressOptions} UppyProgressOptions
 * @typedef {import('./realtime.js').ConnectionState} ConnectionState
 * @typedef {import('./realtime.js').RealtimeOptions} RealtimeOptions
 * @typedef {import('./uploader.js').UploadTask} UploadTask
 * @typedef {import('./uploader.js').UploaderOptions} UploaderOptions
 * @typedef {import('./uploader.js').Progress} UploadProgress
 */
