// Generated from docs/events.schema.json by packages/client/scripts/generate-types.mjs (make docs); do not edit.

/**
 * Any message on the WebSocket (urn:course-media:websocket:v1: course-media WebSocket message), either way.
 */
export type WebSocketMessage = ServerMessage | ClientMessage;
/**
 * Every message the server sends: one envelope, told apart by `type`.
 */
export type ServerMessage =
  | UploadStarted
  | UploadProgress
  | UploadCompleted
  | UploadFailed
  | UploadAborted
  | MediaLinked
  | MediaUnlinked
  | MediaUpdated
  | ChapterUpdated
  | ChapterDeleted
  | CourseUpdated
  | CourseDeleted
  | Subscribed
  | Unsubscribed
  | Pong
  | Authenticated
  | Error;
/**
 * Every message a client may send, told apart by `action`.
 */
export type ClientMessage =
  SubscribeMessage | UnsubscribeMessage | PingMessage | AuthenticateMessage;

export interface UploadStarted {
  v: 1;
  id: string;
  type: 'upload.started';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: UploadData | null;
  resources: string[];
}
export interface UploadData {
  upload: Upload;
}
export interface Upload {
  operationId: string;
  uploadId: string;
  userId: string;
  key: string;
  filename: string;
  contentType: string;
  size: number;
  partSize: number;
  partCount: number;
  status: 'uploading' | 'completing' | 'completed' | 'failed' | 'aborted';
  target: LibraryTarget | ChapterTarget;
  bytesUploaded: number;
  mediaId: string | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
}
export interface LibraryTarget {
  type: 'library';
}
export interface ChapterTarget {
  type: 'chapter';
  courseId: string;
  chapterId: string;
}
export interface UploadProgress {
  v: 1;
  id: string;
  type: 'upload.progress';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: UploadProgressData | null;
  resources: string[];
}
export interface UploadProgressData {
  bytesUploaded: number;
  totalBytes: number;
  percent: number;
  bytesPerSecond: number | null;
  etaSeconds: number | null;
  filename: string;
  target: LibraryTarget | ChapterTarget;
}
export interface UploadCompleted {
  v: 1;
  id: string;
  type: 'upload.completed';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: UploadCompletedData | null;
  resources: string[];
}
export interface UploadCompletedData {
  upload: Upload;
  media: MediaFile;
}
export interface MediaFile {
  mediaId: string;
  userId: string;
  filename: string;
  contentType: string;
  size: number;
  key: string;
  operationId: string | null;
  createdAt: string;
  links: MediaLink[];
  status: 'processing' | 'ready' | 'failed';
  reason: string | null;
  durationSeconds: number | null;
  width: number | null;
  height: number | null;
  rotation: number | null;
  videoCodec: string | null;
  audioCodec: string | null;
  bitrate: number | null;
  hasPoster: boolean;
  downloadUrl: string | null;
}
export interface MediaLink {
  courseId: string;
  chapterId: string;
}
export interface UploadFailed {
  v: 1;
  id: string;
  type: 'upload.failed';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: UploadEndedData | null;
  resources: string[];
}
export interface UploadEndedData {
  upload: Upload;
  reason: string;
}
export interface UploadAborted {
  v: 1;
  id: string;
  type: 'upload.aborted';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: UploadEndedData | null;
  resources: string[];
}
export interface MediaLinked {
  v: 1;
  id: string;
  type: 'media.linked';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: MediaLinkData | null;
  resources: string[];
}
export interface MediaLinkData {
  media: MediaFile;
  chapter: Chapter;
}
export interface Chapter {
  courseId: string;
  chapterId: string;
  title: string;
  position: number;
  version: number;
  items: ChapterItem[];
  createdAt: string;
  updatedAt: string;
}
/**
 * A media file placed in a chapter, with enough of the file to render it:
 * what a course outline shows (duration, frame size, whether a poster exists).
 * Never a signed URL, so a chapter in an event equals the chapter GET returns.
 */
export interface ChapterItem {
  mediaId: string;
  filename: string;
  contentType: string;
  size: number;
  addedAt: string;
  addedBy: string;
  status: 'processing' | 'ready' | 'failed';
  durationSeconds: number | null;
  width: number | null;
  height: number | null;
  hasPoster: boolean;
}
export interface MediaUnlinked {
  v: 1;
  id: string;
  type: 'media.unlinked';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: MediaLinkData | null;
  resources: string[];
}
/**
 * The processing step's outcome: the media file's new status and metadata,
 * to its owner and to every course whose chapters hold it.
 */
export interface MediaUpdated {
  v: 1;
  id: string;
  type: 'media.updated';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: MediaData | null;
  resources: string[];
}
export interface MediaData {
  media: MediaFile;
}
export interface ChapterUpdated {
  v: 1;
  id: string;
  type: 'chapter.updated';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: ChapterData | null;
  resources: string[];
}
export interface ChapterData {
  chapter: Chapter;
}
/**
 * `chapter` is the chapter as it was when deleted, items included.
 */
export interface ChapterDeleted {
  v: 1;
  id: string;
  type: 'chapter.deleted';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: ChapterData | null;
  resources: string[];
}
export interface CourseUpdated {
  v: 1;
  id: string;
  type: 'course.updated';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: CourseData | null;
  resources: string[];
}
export interface CourseData {
  course: Course;
}
export interface Course {
  courseId: string;
  title: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  members: Member[];
  chapters: Chapter[];
}
export interface Member {
  userId: string;
  role: 'owner' | 'editor' | 'viewer';
}
/**
 * `course` is the course as it was when its deletion began.
 */
export interface CourseDeleted {
  v: 1;
  id: string;
  type: 'course.deleted';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: CourseData | null;
  resources: string[];
}
export interface Subscribed {
  v: 1;
  id: string;
  type: 'subscribed';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: SubscribedData | null;
  resources: string[];
}
export interface SubscribedData {
  channel: string;
  seq: number;
  replayComplete: boolean | null;
}
export interface Unsubscribed {
  v: 1;
  id: string;
  type: 'unsubscribed';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: UnsubscribedData | null;
  resources: string[];
}
export interface UnsubscribedData {
  channel: string;
}
export interface Pong {
  v: 1;
  id: string;
  type: 'pong';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: PongData | null;
  resources: string[];
}
export interface PongData {}
export interface Authenticated {
  v: 1;
  id: string;
  type: 'authenticated';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: AuthenticatedData | null;
  resources: string[];
}
export interface AuthenticatedData {
  expiresAt: string;
}
export interface Error {
  v: 1;
  id: string;
  type: 'error';
  channel: string | null;
  seq: number | null;
  at: string;
  operationId: string | null;
  courseId: string | null;
  data: ErrorData | null;
  resources: string[];
}
export interface ErrorData {
  code: string;
  message: string;
}
/**
 * Receive a channel's events; with `since`, first every durable one after it.
 */
export interface SubscribeMessage {
  action: 'subscribe';
  channel: string;
  since?: number | null;
}
export interface UnsubscribeMessage {
  action: 'unsubscribe';
  channel: string;
}
/**
 * Keeps a connection under API Gateway's 10-minute idle limit; answered by `pong`.
 */
export interface PingMessage {
  action: 'ping';
}
/**
 * A fresh token for this connection (the same user), before or after the
 * one it connected with expires; answered by `authenticated`.
 */
export interface AuthenticateMessage {
  action: 'authenticate';
  token: string;
}
