"""The local S3 front: what S3 refuses, refused before moto sees the request.

moto checks no presigned signature, no expiry and no signed header, so a URL
that S3 would refuse works against it and a green test proves nothing. This WSGI
middleware sits in front of moto's server and, for every S3 request signed in
its query string (a presigned URL), does what S3 does:

- the query's auth parameters must be complete and well formed, X-Amz-Expires
  at most 7 days (400 AuthorizationQueryParametersError);
- the access key must be the stack's (403 InvalidAccessKeyId);
- the URL must not have expired (403 AccessDenied "Request has expired"), nor be
  dated in the future (403 AccessDenied "Request is not valid yet");
- the signature, recomputed with botocore's own SigV4 query signer and the
  stack's secret over the request as it arrived (method, raw path, query, the
  signed headers), must match (403 SignatureDoesNotMatch). A signed
  Content-Length is therefore enforced: a body of any other length changes the
  header and the signature no longer matches, as in S3;
- a PUT must say how long it is (411 MissingContentLength).

Errors are S3's XML bodies with S3's status codes and, for a browser, the
bucket's CORS headers, so a client can read them as it would read S3's.

It also answers what moto mishandles: S3 ignores the Content-Type of a request
it does not store a type from, but moto parses an `application/x-www-form-urlencoded`
body as a form (what `curl --data-binary` and urllib send by default), drops
the bytes and fails or hangs. The front reads such a body itself and hands moto
the same bytes as `application/octet-stream`.

Anonymous requests to the stack's buckets (other than CORS preflights) get 403
AccessDenied: the buckets block public access. Requests signed in a header
(the app's own SDK calls) pass through unchecked.
"""

from __future__ import annotations

import calendar
import hmac
import io
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from devstack.faults import Faults

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

ALGORITHM = "AWS4-HMAC-SHA256"
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
# S3 tolerates this much clock skew for a URL dated in the future.
MAX_SKEW_SECONDS = 15 * 60
FORM_TYPE = "application/x-www-form-urlencoded"
_AUTH_PARAMS = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires")


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    exposed_headers: tuple[str, ...]

    def headers_for(self, origin: str, method: str) -> list[tuple[str, str]]:
        """The CORS headers S3 adds to a response for this origin and method."""
        if method not in self.allowed_methods:
            return []
        if "*" in self.allowed_origins:
            allowed = "*"
        elif origin in self.allowed_origins:
            allowed = origin
        else:
            return []
        headers = [
            ("Access-Control-Allow-Origin", allowed),
            ("Access-Control-Allow-Methods", ", ".join(self.allowed_methods)),
            ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
        ]
        if self.exposed_headers:
            headers.append(("Access-Control-Expose-Headers", ", ".join(self.exposed_headers)))
        return headers


class S3Error(Exception):
    def __init__(self, status: int, code: str, message: str, **fields: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    411: "Length Required",
}


def _amz_time(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _parse_amz_date(text: str) -> float:
    try:
        return float(calendar.timegm(time.strptime(text, "%Y%m%dT%H%M%SZ")))
    except ValueError:
        raise S3Error(
            400,
            "AuthorizationQueryParametersError",
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        ) from None


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in environ.items():
        if name.startswith("HTTP_"):
            found[name[5:].replace("_", "-").lower()] = str(value)
    for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(name):
            found[name.replace("_", "-").lower()] = str(environ[name])
    return found


def _raw_path(environ: WSGIEnvironment) -> str:
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or "")
    if raw.startswith(("http://", "https://")):
        raw = "/" + raw.split("://", 1)[1].partition("/")[2]
    path = raw.partition("?")[0]
    return path or str(environ.get("PATH_INFO") or "/")


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p)]


class S3Front:
    """WSGI middleware in front of moto's server (see the module docstring)."""

    def __init__(
        self,
        app: WSGIApplication,
        *,
        credentials: dict[str, str],
        region: str,
        buckets: dict[str, CorsRule | None],
        faults: Faults | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._credentials = credentials
        self._region = region
        self._buckets = buckets
        self._faults = faults or Faults()
        self._clock = clock

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        query = str(environ.get("QUERY_STRING") or "")
        headers = _headers(environ)
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            return self._app(environ, start_response)  # CORS preflights carry no auth
        presigned = "X-Amz-Credential=" in query or "X-Amz-Signature=" in query
        header_signed = "/s3/aws4_request" in headers.get("authorization", "")
        try:
            if presigned:
                pairs = _query_pairs(query)
                if not self._is_s3_query(pairs):
                    return self._app(environ, start_response)
                self._verify(environ, headers, pairs)
            elif not header_signed and self._anonymous_to_bucket(environ, headers):
                raise S3Error(403, "AccessDenied", "Access Denied")
            if presigned or header_signed:
                self._require_length(environ)
                self._unform(environ, headers)
        except S3Error as error:
            self._drain(environ)
            return self._error(environ, headers, error, start_response)
        return self._app(environ, start_response)

    # ---- what S3 checks -----------------------------------------------------------
    @staticmethod
    def _is_s3_query(pairs: list[tuple[str, str]]) -> bool:
        credential = unquote(dict(pairs).get("X-Amz-Credential", ""))
        parts = credential.split("/")
        # A malformed credential is still S3's to refuse when it says nothing else.
        return len(parts) != 5 or parts[3] == "s3"

    def _verify(
        self, environ: WSGIEnvironment, headers: dict[str, str], pairs: list[tuple[str, str]]
    ) -> None:
        params = {k: unquote(v) for k, v in pairs}
        missing = [name for name in (*_AUTH_PARAMS, "X-Amz-SignedHeaders", "X-Amz-Signature")]
        missing = [name for name in missing if not params.get(name)]
        if missing:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                "and X-Amz-Expires parameters.",
            )
        if params["X-Amz-Algorithm"] != ALGORITHM:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
            )
        expires_text = params["X-Amz-Expires"]
        if not expires_text.isascii() or not expires_text.isdigit():
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires should be a number",
            )
        expires = int(expires_text)
        if expires > MAX_EXPIRES_SECONDS:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                "X-Amz-Expires must be less than a week (in seconds) that is 604800",
            )
        credential = params["X-Amz-Credential"].split("/")
        if len(credential) != 5 or credential[4] != "aws4_request":
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
            )
        access_key, day, region, service, _ = credential
        signed_at = _parse_amz_date(params["X-Amz-Date"])
        if day != params["X-Amz-Date"][:8]:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                f"Error parsing the X-Amz-Credential parameter; incorrect date format {day}. "
                'This date in the credential must be in the format "yyyyMMdd".',
            )
        if region != self._region:
            raise S3Error(
                400,
                "AuthorizationQueryParametersError",
                f"Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; "
                f"expecting '{self._region}'",
                Region=self._region,
            )
        secret = self._credentials.get(access_key)
        if secret is None:
            raise S3Error(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=access_key,
            )
        now = self._clock()
        if signed_at - now > MAX_SKEW_SECONDS:
            raise S3Error(403, "AccessDenied", "Request is not valid yet")
        lifetime = float(expires)
        early = self._faults.settings.presign_expires_after_seconds
        if early is not None and early < lifetime:
            lifetime = early
            if now > signed_at + lifetime:
                self._faults.note("presign_expired_early")
        if now > signed_at + lifetime:
            raise S3Error(
                403,
                "AccessDenied",
                "Request has expired",
                **{
                    "X-Amz-Expires": expires_text,
                    "Expires": _amz_time(signed_at + lifetime),
                    "ServerTime": _amz_time(now),
                },
            )
        signed_names = params["X-Amz-SignedHeaders"].split(";")
        request = AWSRequest(
            method=str(environ.get("REQUEST_METHOD", "GET")),
            url="http://{host}{path}?{query}".format(
                host=headers.get("host", ""),
                path=_raw_path(environ),
                query="&".join(f"{k}={v}" for k, v in pairs if k != "X-Amz-Signature"),
            ),
            headers={name: headers[name] for name in signed_names if name in headers},
        )
        request.context["timestamp"] = params["X-Amz-Date"]
        signer = S3SigV4QueryAuth(Credentials(access_key, secret), service, region, expires)
        canonical = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical)
        expected = signer.signature(string_to_sign, request)
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            raise S3Error(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
                AWSAccessKeyId=access_key,
                StringToSign=string_to_sign,
                SignatureProvided=params["X-Amz-Signature"],
                CanonicalRequest=canonical,
            )

    def _anonymous_to_bucket(self, environ: WSGIEnvironment, headers: dict[str, str]) -> bool:
        if "authorization" in headers:
            return False
        bucket = _raw_path(environ).lstrip("/").partition("/")[0]
        return bucket in self._buckets

    @staticmethod
    def _require_length(environ: WSGIEnvironment) -> None:
        if environ.get("REQUEST_METHOD") == "PUT" and not environ.get("CONTENT_LENGTH"):
            raise S3Error(
                411, "MissingContentLength", "You must provide the Content-Length HTTP header."
            )

    @staticmethod
    def _unform(environ: WSGIEnvironment, headers: dict[str, str]) -> None:
        if not headers.get("content-type", "").lower().startswith(FORM_TYPE):
            return
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_TYPE"] = "application/octet-stream"

    # ---- S3's answers ---------------------------------------------------------------
    @staticmethod
    def _drain(environ: WSGIEnvironment) -> None:
        """Read a refused request's body, as S3 does, so the client gets the answer
        instead of a connection reset mid-upload."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        stream = environ.get("wsgi.input")
        while length > 0 and stream is not None:
            chunk = stream.read(min(length, 1 << 20))
            if not chunk:
                return
            length -= len(chunk)

    def _error(
        self,
        environ: WSGIEnvironment,
        headers: dict[str, str],
        error: S3Error,
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        request_id = uuid.uuid4().hex[:16].upper()
        items = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in error.fields.items())
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{error.code}</Code><Message>{escape(error.message)}</Message>"
            f"{items}<RequestId>{request_id}</RequestId><HostId>devstack</HostId></Error>"
        ).encode()
        method = str(environ.get("REQUEST_METHOD", "GET"))
        if method == "HEAD":
            body = b""
        out = [
            ("Content-Type", "application/xml"),
            ("Content-Length", str(len(body))),
            ("x-amz-request-id", request_id),
            ("x-amz-id-2", "devstack"),
        ]
        origin = headers.get("origin")
        rule = self._buckets.get(_raw_path(environ).lstrip("/").partition("/")[0])
        if origin and rule is not None:
            out += rule.headers_for(origin, method)
        start_response(f"{error.status} {_REASONS.get(error.status, 'Error')}", out)
        return [body]


def buckets_of(template: dict[str, Any]) -> dict[str, CorsRule | None]:
    """Each bucket the template defines (by its local name) with its CORS rule."""
    from devstack.provision import physical_name

    resources = template["Resources"]
    found: dict[str, CorsRule | None] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::S3::Bucket":
            continue
        rules = resource.get("Properties", {}).get("CorsConfiguration", {}).get("CorsRules", [])
        rule = rules[0] if rules else None
        found[physical_name(logical_id, resources)] = (
            CorsRule(
                allowed_origins=tuple(rule.get("AllowedOrigins", [])),
                allowed_methods=tuple(rule.get("AllowedMethods", [])),
                exposed_headers=tuple(rule.get("ExposedHeaders", [])),
            )
            if rule
            else None
        )
    return found
