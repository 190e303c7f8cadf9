// JSDoc type definitions for the wire format (docs/openapi.json and
// docs/events.schema.json are the normative sources; these mirror them so
// editors can check the client without a build step). Nothing is exported at
// run time: import the types with `@typedef {import('./types.js').Chapter} Chapter`.

/**
 * @typedef {{type: 'library'} | {type: 'chapter', courseId: string, chapterId: string}} UploadTarget
 *
 * @typedef {object} ChapterItem
 * @property {string} mediaId
 * @property {string} filename
 * @property {string} contentType
 * @property {number} size
 * @property {string} addedAt
 * @property {string} addedBy
 *
 * @typedef {object} Chapter
 * @property {string} courseId
 * @property {string} chapterId
 * @property {string} title
 * @property {number} position
 * @property {number} version
 * @property {ChapterItem[]} items
 * @property {string} createdAt
 * @property {string} updatedAt
 *
 * @typedef {object} Member
 * @property {string} userId
 * @property {'owner' | 'editor' | 'viewer'} role
 *
 * @typedef {object} Course
 * @property {string} courseId
 * @property {string} title
 * @property {string} createdBy
 * @property {string} createdAt
 * @property {Member[]} members
 * @property {Chapter[]} chapters
 *
 * @typedef {object} MediaFile
 * @property {string} mediaId
 * @property {string} userId
 * @property {string} filename
 * @property {string} contentType
 * @property {number} size
 * @property {string} key
 * @property {string | null} operationId
 * @property {string} createdAt
 * @property {{courseId: string, chapterId: string}[]} links
 * @property {string | null} [downloadUrl]
 *
 * @typedef {'uploading' | 'completing' | 'completed' | 'failed' | 'aborted'} UploadStatus
 *
 * @typedef {object} UploadPart
 * @property {number} partNumber
 * @property {string} etag
 * @property {number} size
 *
 * @typedef {object} Upload
 * @property {string} operationId
 * @property {string} uploadId
 * @property {string} userId
 * @property {string} key
 * @property {string} filename
 * @property {string} contentType
 * @property {number} size
 * @property {number} partSize
 * @property {number} partCount
 * @property {UploadStatus} status
 * @property {UploadTarget} target
 * @property {number} bytesUploaded
 * @property {string | null} mediaId
 * @property {string | null} [reason]
 * @property {string} expiresAt
 * @property {UploadPart[]} [parts] present on GET /uploads/{operationId}
 *
 * @typedef {object} UploadProgressData
 * @property {number} bytesUploaded
 * @property {number} totalBytes
 * @property {number} percent
 * @property {number | null} bytesPerSecond
 * @property {number | null} etaSeconds
 * @property {string} filename
 * @property {UploadTarget} target
 *
 * One envelope for every message the server sends (CONTRACT.md, "Event envelope").
 * `data` is null when the event was too large for one WebSocket message; the
 * client then refetches `resources`.
 * @typedef {object} ServerEvent
 * @property {1} v
 * @property {string} id
 * @property {string} type
 * @property {string | null} channel
 * @property {number | null} seq
 * @property {string} at
 * @property {string | null} operationId
 * @property {string | null} courseId
 * @property {any} data
 * @property {string[]} resources
 */

export {};
