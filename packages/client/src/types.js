// The wire format's types under the names the contract uses. None is written
// by hand: generated/openapi.d.ts comes from docs/openapi.json and
// generated/events.d.ts from docs/events.schema.json (`make docs`, checked in CI),
// so a field renamed on the server fails the client's type check, and yours.
// Nothing is exported at run time.
//
//   /** @import { Chapter, ServerEvent } from '@course-media/client' */   (JSDoc)
//   import type { Chapter, ServerEvent } from '@course-media/client';     (TypeScript)

/** @import { components, paths, operations } from '../generated/openapi.js' */
/** @import * as Wire from '../generated/events.js' */

// Every REST path, method, parameter and body (openapi-typescript's `paths`;
// it fits openapi-fetch and the like as is).
/**
 * @typedef {paths} RestPaths
 * @typedef {operations} RestOperations
 * @typedef {components['schemas']} RestSchemas
 */

// REST bodies (responses, as the server serializes them).
/**
 * @typedef {components['schemas']['Course']} Course
 * @typedef {components['schemas']['Member']} Member
 * @typedef {components['schemas']['Chapter']} Chapter
 * @typedef {components['schemas']['ChapterItem']} ChapterItem
 * @typedef {components['schemas']['ChapterList']} ChapterList
 * @typedef {components['schemas']['MediaFile']} MediaFile
 * @typedef {components['schemas']['MediaLink']} MediaLink
 * @typedef {components['schemas']['Library']} Library
 * @typedef {components['schemas']['Upload']} Upload
 * @typedef {components['schemas']['UploadDetail']} UploadDetail
 * @typedef {components['schemas']['UploadList']} UploadList
 * @typedef {components['schemas']['UploadPart']} UploadPart
 * @typedef {components['schemas']['PartsResponse']} PartsResponse
 * @typedef {components['schemas']['ProgressAccepted']} ProgressAccepted
 * @typedef {components['schemas']['Error']} ErrorBody
 * @typedef {components['schemas']['LibraryTarget'] | components['schemas']['ChapterTarget']} UploadTarget
 * @typedef {Upload['status']} UploadStatus
 */

// REST request bodies.
/**
 * @typedef {components['schemas']['CreateCourse']} CreateCourseRequest
 * @typedef {components['schemas']['CreateChapter']} CreateChapterRequest
 * @typedef {components['schemas']['PatchChapter']} PatchChapterRequest
 * @typedef {components['schemas']['LinkMedia']} LinkMediaRequest
 * @typedef {components['schemas']['PutMember']} PutMemberRequest
 * @typedef {components['schemas']['InitiateRequest']} InitiateUploadRequest
 * @typedef {components['schemas']['PartsRequest']} PartsRequest
 * @typedef {components['schemas']['CompleteRequest']} CompleteUploadRequest
 * @typedef {components['schemas']['ProgressRequest']} ProgressRequest
 */

// WebSocket messages. `ServerMessage` is every message the server sends (one
// envelope, told apart by `type`); `ServerEvent` the events among them,
// `ControlMessage` the replies to what a client sent. `data` is null when an
// event was too large for one WebSocket message: refetch its `resources`.
/**
 * @typedef {Wire.ServerMessage} ServerMessage
 * @typedef {Exclude<Wire.ServerMessage, ControlMessage>} ServerEvent
 * @typedef {Wire.Subscribed | Wire.Unsubscribed | Wire.Pong | Wire.Authenticated | Wire.Error} ControlMessage
 * @typedef {Wire.ClientMessage} ClientMessage
 * @typedef {Wire.UploadStarted} UploadStartedEvent
 * @typedef {Wire.UploadProgress} UploadProgressEvent
 * @typedef {Wire.UploadCompleted} UploadCompletedEvent
 * @typedef {Wire.UploadFailed} UploadFailedEvent
 * @typedef {Wire.UploadAborted} UploadAbortedEvent
 * @typedef {Wire.MediaLinked} MediaLinkedEvent
 * @typedef {Wire.MediaUnlinked} MediaUnlinkedEvent
 * @typedef {Wire.ChapterUpdated} ChapterUpdatedEvent
 * @typedef {Wire.UploadProgressData} UploadProgressData
 * @typedef {Wire.MediaFile} EventMediaFile a media file as events carry it (no download URL)
 * @typedef {Wire.SubscribedData} SubscribedData
 * @typedef {Wire.ErrorData} ErrorData
 */

export {};
