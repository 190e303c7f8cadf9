"""Playback for every member of a course: a URL for a media file linked into
one of the course's chapters, whoever uploaded it.

Who may: any member, viewers included. A non-member gets 404 `course_not_found`
as on every course route; a media file not linked into that course (another
course's, a library file, one that does not exist) gets 404 `media_not_found`,
so a course id and a media id together reveal nothing the caller could not
already see. The file's own record says where it is linked (its `links`, kept
in the same transactions as the chapters), so one read answers both.

The URL itself comes from the deployment's signer (chalicelib/store/playback_urls.py):
presigned S3 on the local stack, signed CloudFront in production.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Protocol

from chalicelib.clock import Clock, utc
from chalicelib.courses import MEMBERS, CourseService
from chalicelib.domain.media import poster_key
from chalicelib.errors import NotFound
from chalicelib.media import MediaRepository
from chalicelib.models import MediaFile, Playback


class PlaybackUrls(Protocol):
    def url(self, key: str, expires_in: int) -> str: ...


class PlaybackService:
    def __init__(
        self,
        courses: CourseService,
        media: MediaRepository,
        urls: PlaybackUrls,
        *,
        expiry_seconds: int,
        clock: Clock = time.time,
    ) -> None:
        self._courses = courses
        self._media = media
        self._urls = urls
        self._expiry = expiry_seconds
        self._clock = clock

    def linked_media(self, course_id: str, media_id: str, user_id: str) -> MediaFile:
        """The media file, if `user_id` is a member of the course and the file
        is linked into one of its chapters."""
        self._courses.require_role(course_id, user_id, MEMBERS)
        media = self._media.get(media_id)
        if media is None or not any(link.course_id == course_id for link in media.links):
            raise NotFound("media file not found in this course", code="media_not_found")
        return media

    def playback(self, course_id: str, media_id: str, user_id: str) -> Playback:
        media = self.linked_media(course_id, media_id, user_id)
        now = utc(self._clock).replace(microsecond=0)
        # The poster is its own object (posters/{userId}/{mediaId}.jpg), signed
        # the same way: whoever may play the file may see its poster.
        poster = poster_key(media)
        return Playback(
            url=self._urls.url(media.key, self._expiry),
            content_type=media.content_type,
            size=media.size,
            expires_at=now + timedelta(seconds=self._expiry),
            poster_url=self._urls.url(poster, self._expiry) if poster else None,
        )
