// Generated from docs/openapi.json by packages/client/scripts/generate-types.mjs (make docs); do not edit.

export interface paths {
    "/courses": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's courses with their role, most recently changed first */
        get: operations["list_courses"];
        put?: never;
        /** Create a course; the caller becomes its owner */
        post: operations["create_course"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/courses/{courseId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A course with its members, chapters and their items */
        get: operations["get_course"];
        put?: never;
        post?: never;
        /** Delete a course with its chapters (owners); linked files stay in their owners' libraries */
        delete: operations["delete_course"];
        options?: never;
        head?: never;
        /** Retitle a course at the version read (owners, editors) */
        patch: operations["patch_course"];
        trace?: never;
    };
    "/courses/{courseId}/chapters": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The course's chapters, ordered by position */
        get: operations["list_chapters"];
        put?: never;
        /** Add a chapter at the end (owners, editors) */
        post: operations["create_chapter"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/courses/{courseId}/chapters/{chapterId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One chapter with its items (the path events name in `resources`) */
        get: operations["get_chapter"];
        put?: never;
        post?: never;
        /** Delete a chapter (owners, editors); its files are unlinked and stay in their libraries */
        delete: operations["delete_chapter"];
        options?: never;
        head?: never;
        /** Retitle or reorder a chapter at the version read (owners, editors) */
        patch: operations["patch_chapter"];
        trace?: never;
    };
    "/courses/{courseId}/chapters/{chapterId}/media/{mediaId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Link the caller's media file into a chapter (idempotent; owners, editors) */
        put: operations["link_media"];
        post?: never;
        /** Unlink a media file from a chapter (owners, editors) */
        delete: operations["unlink_media"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/courses/{courseId}/media/{mediaId}/playback": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A short-lived URL to play a media file linked into the course (any member); it serves HTTP Range requests */
        get: operations["playback"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/courses/{courseId}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The course's members: owners, then editors, then viewers */
        get: operations["list_members"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/courses/{courseId}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Add a member or change their role (owners only) */
        put: operations["put_member"];
        post?: never;
        /** Remove a member (owners only; never the last owner) */
        delete: operations["delete_member"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/health": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Liveness: answers without a token */
        get: operations["health"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/media": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's media library, newest first */
        get: operations["library"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/media/{mediaId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One of the caller's media files, with a short-lived downloadUrl */
        get: operations["get_media"];
        put?: never;
        post?: never;
        /** Delete a media file and its object; 409 while linked into a chapter */
        delete: operations["delete_media"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/s3/multipart": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Companion: create a multipart upload */
        post: operations["create_multipart"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/s3/multipart/{uploadId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Companion: the parts S3 holds */
        get: operations["list_parts"];
        put?: never;
        post?: never;
        /** Companion: abort a multipart upload */
        delete: operations["abort_multipart"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/s3/multipart/{uploadId}/batch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Companion: presign a batch of parts */
        get: operations["sign_batch"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/s3/multipart/{uploadId}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Companion: complete a multipart upload */
        post: operations["complete_multipart"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/s3/multipart/{uploadId}/{partNumber}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Companion: presign one part */
        get: operations["sign_part"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/s3/sign": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Uppy 6 signRequest: sign one S3 request of the caller's upload */
        post: operations["sign_request"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/uploads": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's open uploads */
        get: operations["list_active"];
        put?: never;
        /** Start a multipart upload */
        post: operations["initiate"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/uploads/{operationId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An upload, with the parts S3 holds */
        get: operations["get_upload"];
        put?: never;
        post?: never;
        /** Abort an upload */
        delete: operations["abort"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/uploads/{operationId}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Assemble the parts; completion follows from S3 */
        post: operations["complete"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/uploads/{operationId}/parts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Presign a batch of part uploads */
        post: operations["presign_parts"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/uploads/{operationId}/progress": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Report bytes uploaded */
        post: operations["report_progress"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** BatchQuery */
        BatchQuery: {
            /** Key */
            key: string;
            /** Partnumbers */
            partNumbers: string;
        };
        /** BatchSigned */
        BatchSigned: {
            /** Presignedurls */
            presignedUrls: {
                [key: string]: string;
            };
        };
        /** Chapter */
        Chapter: {
            /** Courseid */
            courseId: string;
            /** Chapterid */
            chapterId: string;
            /** Title */
            title: string;
            /** Position */
            position: number;
            /** Version */
            version: number;
            /** Items */
            items: components["schemas"]["ChapterItem"][];
            /** Createdat */
            createdAt: string;
            /** Updatedat */
            updatedAt: string;
        };
        /**
         * ChapterItem
         * @description A media file placed in a chapter, with enough of the file to render it:
         *     what a course outline shows (duration, frame size, whether a poster exists).
         *     Never a signed URL, so a chapter in an event equals the chapter GET returns.
         */
        ChapterItem: {
            /** Mediaid */
            mediaId: string;
            /** Filename */
            filename: string;
            /** Contenttype */
            contentType: string;
            /** Size */
            size: number;
            /** Addedat */
            addedAt: string;
            /** Addedby */
            addedBy: string;
            /**
             * Status
             * @default ready
             * @enum {string}
             */
            status: "processing" | "ready" | "failed";
            /**
             * Durationseconds
             * @default null
             */
            durationSeconds: number | null;
            /**
             * Width
             * @default null
             */
            width: number | null;
            /**
             * Height
             * @default null
             */
            height: number | null;
            /**
             * Hasposter
             * @default false
             */
            hasPoster: boolean;
        };
        /** ChapterList */
        ChapterList: {
            /** Chapters */
            chapters: components["schemas"]["Chapter"][];
        };
        /** ChapterTarget */
        ChapterTarget: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "chapter";
            /** Courseid */
            courseId: string;
            /** Chapterid */
            chapterId: string;
        };
        /** CompleteMultipart */
        CompleteMultipart: {
            /** Parts */
            parts: components["schemas"]["S3Part"][];
        };
        /** CompleteRequest */
        CompleteRequest: {
            /**
             * Parts
             * @default null
             */
            parts: components["schemas"]["CompletedPart"][] | null;
        };
        /** CompleteResult */
        CompleteResult: {
            /** Location */
            location: string;
            /** Key */
            key: string;
            /** Bucket */
            bucket: string;
        };
        /** CompletedPart */
        CompletedPart: {
            /** Partnumber */
            partNumber: number;
            /** Etag */
            etag: string;
        };
        /** Course */
        Course: {
            /** Courseid */
            courseId: string;
            /** Title */
            title: string;
            /** Createdby */
            createdBy: string;
            /** Createdat */
            createdAt: string;
            /** Updatedat */
            updatedAt: string;
            /** Version */
            version: number;
            /** Members */
            members: components["schemas"]["Member"][];
            /** Chapters */
            chapters: components["schemas"]["Chapter"][];
        };
        /** CourseList */
        CourseList: {
            /** Courses */
            courses: components["schemas"]["CourseSummary"][];
            /** Nexttoken */
            nextToken: string | null;
        };
        /**
         * CourseSummary
         * @description A course in the caller's course list, with the caller's role in it.
         */
        CourseSummary: {
            /** Courseid */
            courseId: string;
            /** Title */
            title: string;
            /**
             * Role
             * @enum {string}
             */
            role: "owner" | "editor" | "viewer";
            /** Createdby */
            createdBy: string;
            /** Createdat */
            createdAt: string;
            /** Updatedat */
            updatedAt: string;
            /** Version */
            version: number;
        };
        /** CreateChapter */
        CreateChapter: {
            /** Title */
            title: string;
        };
        /** CreateCourse */
        CreateCourse: {
            /** Title */
            title: string;
        };
        /** CreateMultipart */
        CreateMultipart: {
            /** Filename */
            filename: string;
            /** Type */
            type: string;
            metadata: components["schemas"]["FileMeta"];
        };
        /** CreateMultipartResult */
        CreateMultipartResult: {
            /** Key */
            key: string;
            /** Uploadid */
            uploadId: string;
            /** Bucket */
            bucket: string;
        };
        /** Empty */
        Empty: Record<string, never>;
        /**
         * FileMeta
         * @description Uppy's file metadata. Ours are `courseId` and `chapterId` (the target:
         *     both or neither) and `size`; Uppy adds its own (`name`, `type`,
         *     `relativePath`, ...) and an app may add more: those pass unread and are
         *     never stored.
         */
        FileMeta: ({
            /**
             * Courseid
             * @default null
             */
            courseId: string | null;
            /**
             * Chapterid
             * @default null
             */
            chapterId: string | null;
            /** Size */
            size?: number | string;
        } & {
            [key: string]: unknown;
        }) | {
            courseId: string;
            chapterId: string;
        } | {
            courseId?: null;
            chapterId?: null;
        };
        /** Health */
        Health: {
            /** Ok */
            ok: boolean;
        };
        /** InitiateRequest */
        InitiateRequest: {
            /** Filename */
            filename: string;
            /** Contenttype */
            contentType: string;
            /** Size */
            size: number;
            /** Target */
            target: components["schemas"]["LibraryTarget"] | components["schemas"]["ChapterTarget"];
        };
        /** KeyQuery */
        KeyQuery: {
            /** Key */
            key: string;
        };
        /** Library */
        Library: {
            /** Items */
            items: components["schemas"]["MediaFile"][];
            /** Nexttoken */
            nextToken: string | null;
        };
        /** LibraryTarget */
        LibraryTarget: {
            /**
             * @description discriminator enum property added by openapi-typescript
             * @enum {string}
             */
            type: "library";
        };
        /** LinkMedia */
        LinkMedia: {
            /**
             * Position
             * @default null
             */
            position: number | null;
        };
        /** ListQuery */
        ListQuery: {
            /**
             * Status
             * @default active
             * @constant
             */
            status: "active";
        };
        /** MediaFile */
        MediaFile: {
            /** Mediaid */
            mediaId: string;
            /** Userid */
            userId: string;
            /** Filename */
            filename: string;
            /** Contenttype */
            contentType: string;
            /** Size */
            size: number;
            /** Key */
            key: string;
            /** Operationid */
            operationId: string | null;
            /** Createdat */
            createdAt: string;
            /** Links */
            links: components["schemas"]["MediaLink"][];
            /**
             * Status
             * @default processing
             * @enum {string}
             */
            status: "processing" | "ready" | "failed";
            /**
             * Reason
             * @default null
             */
            reason: string | null;
            /**
             * Durationseconds
             * @default null
             */
            durationSeconds: number | null;
            /**
             * Width
             * @default null
             */
            width: number | null;
            /**
             * Height
             * @default null
             */
            height: number | null;
            /**
             * Rotation
             * @default null
             */
            rotation: number | null;
            /**
             * Videocodec
             * @default null
             */
            videoCodec: string | null;
            /**
             * Audiocodec
             * @default null
             */
            audioCodec: string | null;
            /**
             * Bitrate
             * @default null
             */
            bitrate: number | null;
            /**
             * Hasposter
             * @default false
             */
            hasPoster: boolean;
            /**
             * Downloadurl
             * @default null
             */
            downloadUrl: string | null;
        };
        /** MediaLink */
        MediaLink: {
            /** Courseid */
            courseId: string;
            /** Chapterid */
            chapterId: string;
        };
        /** Member */
        Member: {
            /** Userid */
            userId: string;
            /**
             * Role
             * @enum {string}
             */
            role: "owner" | "editor" | "viewer";
        };
        /** MemberList */
        MemberList: {
            /** Members */
            members: components["schemas"]["Member"][];
        };
        /**
         * PageQuery
         * @description `?limit=&nextToken=` of every list that pages.
         */
        PageQuery: {
            /**
             * Limit
             * @default 50
             */
            limit: number;
            /**
             * Nexttoken
             * @description The previous page's nextToken, as the server issued it to the caller for this list; any other value is 400 invalid_next_token.
             * @default null
             */
            nextToken: string | null;
        };
        /** PartsRequest */
        PartsRequest: {
            /** Partnumbers */
            partNumbers: number[];
        };
        /** PartsResponse */
        PartsResponse: {
            /** Urls */
            urls: {
                [key: string]: string;
            };
            /** Expiresat */
            expiresAt: string;
        };
        /** PatchChapter */
        PatchChapter: {
            /** Version */
            version: number;
            /** Title */
            title?: string;
            /** Itemorder */
            itemOrder?: string[];
        } | unknown | unknown;
        /** PatchCourse */
        PatchCourse: {
            /** Version */
            version: number;
            /** Title */
            title: string;
        };
        /**
         * Playback
         * @description What a course member's player needs: a short-lived URL that serves HTTP
         *     Range requests (so a <video> element seeks) and the poster's, if any.
         */
        Playback: {
            /** Url */
            url: string;
            /** Contenttype */
            contentType: string;
            /** Size */
            size: number;
            /** Expiresat */
            expiresAt: string;
            /** Posterurl */
            posterUrl: string | null;
        };
        /** ProgressAccepted */
        ProgressAccepted: {
            /** Operationid */
            operationId: string;
            /** Bytesuploaded */
            bytesUploaded: number;
            /** Status */
            status: string;
        };
        /** ProgressRequest */
        ProgressRequest: {
            /** Bytesuploaded */
            bytesUploaded: number;
        };
        /** PutMember */
        PutMember: {
            /**
             * Role
             * @enum {string}
             */
            role: "owner" | "editor" | "viewer";
        };
        /** S3Part */
        S3Part: {
            /** Partnumber */
            PartNumber: number;
            /** Etag */
            ETag: string;
        };
        /** SignFile */
        SignFile: {
            /** Name */
            name: string;
            /** Type */
            type: string;
            /** Size */
            size: number;
            meta?: components["schemas"]["FileMeta"];
        };
        /**
         * SignRequest
         * @description What Uppy 6 passes to `signRequest`, plus the file for a request that
         *     creates an upload (see docs/uppy.md).
         */
        SignRequest: {
            /**
             * Method
             * @enum {string}
             */
            method: "GET" | "PUT" | "POST" | "DELETE";
            /** Key */
            key: string;
            /**
             * Uploadid
             * @default null
             */
            uploadId: string | null;
            /**
             * Partnumber
             * @default null
             */
            partNumber: number | null;
            /**
             * Expiresin
             * @default null
             */
            expiresIn: number | null;
            /**
             * Contenttype
             * @default null
             */
            contentType: string | null;
            /** @default null */
            file: components["schemas"]["SignFile"] | null;
        } | {
            /** @enum {unknown} */
            method?: "POST" | "PUT";
            uploadId?: null;
            partNumber?: null;
            file: Record<string, never>;
        } | {
            /** @constant */
            method?: "PUT";
            uploadId: string;
            partNumber: number;
        } | {
            /** @enum {unknown} */
            method?: "GET" | "POST" | "DELETE";
            uploadId: string;
            partNumber?: null;
        };
        /** Signed */
        Signed: {
            /** Url */
            url: string;
            /** Key */
            key: string;
        };
        /** SignedPart */
        SignedPart: {
            /** Url */
            url: string;
            /** Expires */
            expires: number;
        };
        /** Upload */
        Upload: {
            /** Operationid */
            operationId: string;
            /** Uploadid */
            uploadId: string;
            /** Userid */
            userId: string;
            /** Key */
            key: string;
            /** Filename */
            filename: string;
            /** Contenttype */
            contentType: string;
            /** Size */
            size: number;
            /** Partsize */
            partSize: number;
            /** Partcount */
            partCount: number;
            /**
             * Status
             * @enum {string}
             */
            status: "uploading" | "completing" | "completed" | "failed" | "aborted";
            /** Target */
            target: components["schemas"]["LibraryTarget"] | components["schemas"]["ChapterTarget"];
            /** Bytesuploaded */
            bytesUploaded: number;
            /** Mediaid */
            mediaId: string | null;
            /** Reason */
            reason: string | null;
            /** Createdat */
            createdAt: string;
            /** Updatedat */
            updatedAt: string;
            /** Expiresat */
            expiresAt: string;
        };
        /** UploadDetail */
        UploadDetail: {
            /** Operationid */
            operationId: string;
            /** Uploadid */
            uploadId: string;
            /** Userid */
            userId: string;
            /** Key */
            key: string;
            /** Filename */
            filename: string;
            /** Contenttype */
            contentType: string;
            /** Size */
            size: number;
            /** Partsize */
            partSize: number;
            /** Partcount */
            partCount: number;
            /**
             * Status
             * @enum {string}
             */
            status: "uploading" | "completing" | "completed" | "failed" | "aborted";
            /** Target */
            target: components["schemas"]["LibraryTarget"] | components["schemas"]["ChapterTarget"];
            /** Bytesuploaded */
            bytesUploaded: number;
            /** Mediaid */
            mediaId: string | null;
            /** Reason */
            reason: string | null;
            /** Createdat */
            createdAt: string;
            /** Updatedat */
            updatedAt: string;
            /** Expiresat */
            expiresAt: string;
            /** Parts */
            parts: components["schemas"]["UploadPart"][];
        };
        /** UploadList */
        UploadList: {
            /** Uploads */
            uploads: components["schemas"]["Upload"][];
        };
        /** UploadPart */
        UploadPart: {
            /** Partnumber */
            partNumber: number;
            /** Etag */
            etag: string;
            /** Size */
            size: number;
        };
        /** @description Every error, from our code and from API Gateway alike. */
        Error: {
            error: {
                code: string;
                message: string;
                /** @description Field problems on 400 ({field, issue, message}); {requestId} on 5xx. */
                details: Record<string, never>[];
            };
        };
    };
    responses: {
        /** @description Malformed or invalid input; `details` names each field */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Missing, expired or forged token */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description The caller's role does not allow this */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description No such resource, or not the caller's */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description The resource's state does not allow this now (the codes: docs/API.md) */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Request body larger than 6 MiB, or an upload past the size limit */
        TooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description A body that is not `application/json` */
        UnsupportedMediaType: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Too many requests; `Retry-After` says when to retry */
        Throttled: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description Unexpected failure; `details` carries the requestId to quote */
        InternalError: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description A dependency failed; `Retry-After` says when to retry */
        Unavailable: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    list_courses: {
        parameters: {
            query?: {
                limit?: number;
                nextToken?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CourseList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    create_course: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateCourse"];
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Course"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    get_course: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Course"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    delete_course: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    patch_course: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PatchCourse"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Course"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_chapters: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChapterList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    create_chapter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateChapter"];
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Chapter"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    get_chapter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                chapterId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Chapter"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    delete_chapter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                chapterId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    patch_chapter: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                chapterId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PatchChapter"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Chapter"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    link_media: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                chapterId: string;
                mediaId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["LinkMedia"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Chapter"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    unlink_media: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                chapterId: string;
                mediaId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Chapter"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    playback: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                mediaId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Playback"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_members: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MemberList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    put_member: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PutMember"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Member"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    delete_member: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                courseId: string;
                userId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    health: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            500: components["responses"]["InternalError"];
        };
    };
    library: {
        parameters: {
            query?: {
                limit?: number;
                nextToken?: string | null;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Library"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    get_media: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                mediaId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["MediaFile"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    delete_media: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                mediaId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    create_multipart: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateMultipart"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CreateMultipartResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_parts: {
        parameters: {
            query: {
                key: string;
            };
            header?: never;
            path: {
                uploadId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    abort_multipart: {
        parameters: {
            query: {
                key: string;
            };
            header?: never;
            path: {
                uploadId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Empty"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    sign_batch: {
        parameters: {
            query: {
                key: string;
                partNumbers: string;
            };
            header?: never;
            path: {
                uploadId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BatchSigned"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    complete_multipart: {
        parameters: {
            query: {
                key: string;
            };
            header?: never;
            path: {
                uploadId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CompleteMultipart"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["CompleteResult"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    sign_part: {
        parameters: {
            query: {
                key: string;
            };
            header?: never;
            path: {
                uploadId: string;
                partNumber: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SignedPart"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    sign_request: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["SignRequest"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Signed"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    list_active: {
        parameters: {
            query?: {
                status?: "active";
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    initiate: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["InitiateRequest"];
            };
        };
        responses: {
            /** @description Success */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Upload"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    get_upload: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                operationId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadDetail"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    abort: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                operationId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Upload"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    complete: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                operationId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CompleteRequest"];
            };
        };
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Upload"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    presign_parts: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                operationId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PartsRequest"];
            };
        };
        responses: {
            /** @description Success */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["PartsResponse"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
    report_progress: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                operationId: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["ProgressRequest"];
            };
        };
        responses: {
            /** @description Success */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProgressAccepted"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["UnsupportedMediaType"];
            429: components["responses"]["Throttled"];
            500: components["responses"]["InternalError"];
            503: components["responses"]["Unavailable"];
        };
    };
}
