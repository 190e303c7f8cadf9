"""The course features' part of the composition root (chalicelib/services.py):
the course list, deleting chapters and courses, and playback, built from the
container's stores, clients and clock. Kept apart only so the Container class
stays readable; nothing is built anywhere else."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.course_list import CourseList
    from chalicelib.playback import PlaybackService, PlaybackUrls
    from chalicelib.removal import RemovalService
    from chalicelib.services import Container


class CourseFeatures:
    """Each feature's modules are imported where it is built: only the REST
    function builds these, and the CloudFront signer's cryptography is no part
    of any other function's cold start (docs/PERFORMANCE.md#cold-start)."""

    def __init__(self, container: Container) -> None:
        self._c = container

    @cached_property
    def course_list(self) -> CourseList:
        from chalicelib.course_list import CourseList
        from chalicelib.pages import PageTokens, page_token_key
        from chalicelib.store.memberships import MembershipIndex

        s = self._c.settings
        index = MembershipIndex(self._c.aws.table(s.courses_table, "the course store"))
        key = page_token_key(s.page_token_key_source, purpose="course-page-token")
        return CourseList(index, PageTokens(key))

    @cached_property
    def removal(self) -> RemovalService:
        from chalicelib.removal import RemovalService

        return RemovalService(
            self._c.courses,
            self._c.course_store,
            self._c.media_store,
            self._c.link_store,
            self._c.outbox,
            self._c.live_access,
            clock=self._c.clock,
            sleep=self._c.sleep,
        )

    @cached_property
    def playback(self) -> PlaybackService:
        from chalicelib.playback import PlaybackService

        return PlaybackService(
            self._c.courses,
            self._c.media_store,
            self.playback_urls,
            expiry_seconds=self._c.settings.playback_url_expiry_seconds,
            clock=self._c.clock,
        )

    @cached_property
    def playback_urls(self) -> PlaybackUrls:
        """Presigned S3 GETs, or signed CloudFront URLs (PLAYBACK_SIGNER)."""
        from chalicelib.store.playback_urls import CloudFrontPlaybackUrls, S3PlaybackUrls, SecretKey

        s = self._c.settings
        if s.playback_signer == "s3":
            return S3PlaybackUrls(self._c.aws.s3, s.media_bucket)
        key = SecretKey(self._c.aws.secrets, s.playback_private_key_secret)
        return CloudFrontPlaybackUrls(
            s.playback_domain, s.playback_key_pair_id, key.get, clock=self._c.clock
        )
