"""
A full-response cache for anonymous visitors: public HTML pages and the public API.

Only what every anonymous visitor would be sent alike is stored: a GET or HEAD from a client
that holds no session, messages cookie, Authorization header or API key, answered 200, not
private, setting no cookie of its own. Each entry is keyed by scheme, host, path and query
string, the active language and, for the API, the Accept header (the representation).

Every entry records the content *generation* it was rendered under, read before the view
ran; it is served only while that is still the current generation. Every committed change
to public data bumps the generation (initiatives.cache_invalidation), so no response
rendered before a commit is served after it. Entries also expire after
ATLAS_PAGE_CACHE_SECONDS, which bounds staleness when a bump cannot reach Redis.

Two values in a page are per response and never stored as they were rendered:

- the Content-Security-Policy nonce: the body is stored with a placeholder, and each hit
  gets a fresh nonce through Django's own request nonce, which the CSP middleware (outside
  this one) then writes into the header;
- CSRF tokens (the layout's language switch and the follow forms post): each hit gets a
  fresh token masked from the visitor's own CSRF secret, through ``get_token``, so the CSRF
  middleware (outside this one) sets the cookie it needs. A cached page never carries a
  token minted for someone else.

Redis failing turns into cache misses: the request is answered from the database, and the
cache is left alone for a few seconds so that an unreachable server does not cost every
request its connection timeout.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csp import get_nonce

# Private, but stable since Django 1.10: the only way to tell this visitor's tokens in a page.
from django.middleware.csrf import _unmask_cipher_token, get_token  # type: ignore[attr-defined]
from django.utils.cache import get_conditional_response
from django.utils.crypto import constant_time_compare
from django.utils.csp import generate_nonce
from django.utils.http import parse_http_date_safe, split_header_value

logger = logging.getLogger(__name__)

# The cache alias of the pages and the generation. Unlike "default", it lets errors through,
# so a request can tell Redis failing from a miss and a bump can tell it did not happen.
PAGE_CACHE_ALIAS = "pages"
GENERATION_KEY = "page-cache:generation"
# The version names Entry's shape: change it with Entry, so a deploy never reads old entries.
ENTRY_PREFIX = "page-cache:entry:v1"
CACHE_HEADER = "X-Cache"

# After a Redis error, requests skip the cache for this long (seconds).
RETRY_AFTER_SECONDS = 5.0
_unavailable_until = 0.0

# Paths under the language prefix that are never cached: the workspace and admin, sign-in,
# the contribution and subscription forms, the language switch.
PRIVATE_SECTIONS = (
    "council/",
    "admin/",
    "accounts/",
    "subscriptions/",
    "suggest/",
    "contributions/",
    "i18n/",
)
UNCACHED_PATHS = ("/healthz", "/readyz", "/i18n/")
API_PREFIX = "/api/v1/"
# Request headers a response may vary on and still be shared: the key covers each of them, or
# (Cookie, Authorization) the request carried none that matter.
SHAREABLE_VARY = {"accept", "accept-language", "accept-encoding", "authorization", "cookie"}
# Headers recomputed or set per response, never replayed from an entry.
UNSTORED_HEADERS = {"content-length", "set-cookie", CACHE_HEADER.lower()}

NONCE_PLACEHOLDER = b"\x00atlas-csp-nonce\x00"
CSRF_PLACEHOLDER = b"\x00atlas-csrf-token\x00"
# A masked CSRF token as the csrf_token tag writes it (CSRF_TOKEN_LENGTH letters and digits).
CSRF_TOKEN_RE = re.compile(rb"(?<![A-Za-z0-9])[A-Za-z0-9]{64}(?![A-Za-z0-9])")
PRIVATE_CACHE_CONTROL = {"private", "no-store", "no-cache"}


@dataclass(frozen=True)
class Entry:
    """One stored response, as this middleware saw it (outer middleware adds the rest)."""

    generation: int
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    csp_config: Any
    csp_ro_config: Any


def page_cache() -> BaseCache:
    return caches[PAGE_CACHE_ALIAS]


def cache_unavailable() -> bool:
    return time.monotonic() < _unavailable_until


def _mark_unavailable(exc: Exception) -> None:
    global _unavailable_until
    if not cache_unavailable():
        logger.warning("page cache unavailable, answering from the database: %s", exc)
    _unavailable_until = time.monotonic() + RETRY_AFTER_SECONDS


def _fresh_generation() -> int:
    # A clock reading, so that a generation recreated after the key was lost (evicted, or a
    # Redis restarted with its data) never equals one that entries still carry.
    return time.time_ns()


def current_generation(store: BaseCache) -> int:
    """The current generation, created when missing. Raises when the cache is unreachable."""
    value = store.get(GENERATION_KEY)
    if value is None:
        store.add(GENERATION_KEY, _fresh_generation(), timeout=None)
        value = store.get(GENERATION_KEY)
    return int(value)


def bump_generation() -> bool:
    """
    Make every stored page stale. True once done, False when the cache could not be reached.

    A failure is logged, not raised: the write that called for it has committed and stands.
    The periodic sweep (initiatives.cache_invalidation.sweep) bumps again once Redis answers.
    """
    store = page_cache()
    try:
        try:
            store.incr(GENERATION_KEY)
        except ValueError:
            # No generation yet (or it was lost): a new one differs from every stored entry's.
            if not store.add(GENERATION_KEY, _fresh_generation(), timeout=None):
                store.incr(GENERATION_KEY)
    except Exception as exc:  # Any cache failure: the sweep retries.
        logger.warning("page cache generation not bumped: %s", exc)
        return False
    return True


# ------------------------------------------------------------------------------ eligibility


def _strip_language(path: str) -> str | None:
    """The path after its language prefix, or None when it has none."""
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix):
            return path[len(prefix) :]
    return None


def cacheable_path(path: str) -> bool:
    if path.startswith(API_PREFIX):
        return True
    if path.startswith(UNCACHED_PATHS):
        return False
    rest = _strip_language(path)
    if rest is None:
        # Outside the language prefix, apart from the API: sitemap, robots, the catalog.
        return True
    return not rest.startswith(PRIVATE_SECTIONS)


def cacheable_request(request: HttpRequest) -> bool:
    """A request whose answer would be the same for every anonymous visitor."""
    if request.method not in ("GET", "HEAD"):
        return False
    if "HTTP_AUTHORIZATION" in request.META:
        return False
    # Preconditions other than If-None-Match / If-Modified-Since are the view's to judge.
    if "HTTP_IF_MATCH" in request.META or "HTTP_IF_UNMODIFIED_SINCE" in request.META:
        return False
    # Only the CSRF and language cookies may come along: a session, a messages cookie, or
    # anything unknown means the answer may be the visitor's own.
    shareable = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME}
    if set(request.COOKIES) - shareable:
        return False
    if settings.CSRF_USE_SESSIONS:
        return False
    return cacheable_path(request.path)


def cacheable_response(request: HttpRequest, response: HttpResponseBase) -> bool:
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    cache_control = {
        directive.split("=", 1)[0].strip().lower()
        for directive in split_header_value(response.get("Cache-Control", ""))
    }
    if cache_control & PRIVATE_CACHE_CONTROL:
        return False
    vary = {header.lower() for header in split_header_value(response.get("Vary", ""))}
    if not vary <= SHAREABLE_VARY:
        return False
    # The session middleware sits outside this one: a session written now would set its
    # cookie after the response was stored.
    session = getattr(request, "session", None)
    return session is None or (not session.modified and session.is_empty())


def entry_key(request: HttpRequest) -> str:
    """Scheme, host, path and query, language and, for the API, the representation asked for."""
    parts = [
        request.scheme or "",
        request.get_host(),
        request.get_full_path(),
        getattr(request, "LANGUAGE_CODE", settings.LANGUAGE_CODE),
    ]
    if request.path.startswith(API_PREFIX):
        # The API negotiates JSON, CSV, GeoJSON and JSON-LD (and the browsable HTML) on Accept.
        parts.append(" ".join(request.META.get("HTTP_ACCEPT", "").lower().split()))
    digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
    return f"{ENTRY_PREFIX}:{digest}"


# ------------------------------------------------------------------------------ per-response values


def _csrf_tokens(content: bytes, secret: str) -> set[bytes]:
    """The masked CSRF tokens in ``content`` that belong to this visitor's secret."""
    found = set()
    for match in CSRF_TOKEN_RE.finditer(content):
        token = match.group()
        if constant_time_compare(_unmask_cipher_token(token.decode()), secret):
            found.add(token)
    return found


def _to_stored(request: HttpRequest, content: bytes) -> bytes:
    nonce = get_nonce(request)
    if nonce:  # A LazyNonce is true once the page has used it.
        content = content.replace(str(nonce).encode(), NONCE_PLACEHOLDER)
    secret = request.META.get("CSRF_COOKIE")
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE") and secret:
        for token in _csrf_tokens(content, secret):
            content = content.replace(token, CSRF_PLACEHOLDER)
    return content


def _from_stored(request: HttpRequest, content: bytes) -> bytes:
    if NONCE_PLACEHOLDER in content:
        nonce = get_nonce(request)
        value = str(nonce) if nonce is not None else generate_nonce()
        content = content.replace(NONCE_PLACEHOLDER, value.encode())
    if CSRF_PLACEHOLDER in content:
        # One token per response, as a render with one context gives.
        content = content.replace(CSRF_PLACEHOLDER, get_token(request).encode())
    return content


# ------------------------------------------------------------------------------ middleware


class PageCacheMiddleware:
    """
    Serves anonymous GET and HEAD requests from the page cache (see the module docstring).

    It sits after CsrfViewMiddleware, whose cookie handling a hit relies on, and after
    LocaleMiddleware, which picks the language the key holds; outside it are the CSP and
    security middleware, which set their headers on hits as on misses.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not settings.ATLAS_PAGE_CACHE or cache_unavailable() or not cacheable_request(request):
            return self.get_response(request)
        store = page_cache()
        key = entry_key(request)
        try:
            found = store.get_many([GENERATION_KEY, key])
            generation = found.get(GENERATION_KEY)
            if generation is None:
                generation = current_generation(store)
        except Exception as exc:  # Redis down or failing: answer from the database.
            _mark_unavailable(exc)
            return self.get_response(request)

        entry = found.get(key)
        if isinstance(entry, Entry) and entry.generation == generation:
            return self.replay(request, entry)

        response = self.get_response(request)
        if not isinstance(response, HttpResponse) or not cacheable_response(request, response):
            return response
        self.store(request, response, store, key, generation)
        response[CACHE_HEADER] = "miss"
        return response

    def store(
        self,
        request: HttpRequest,
        response: HttpResponse,
        store: BaseCache,
        key: str,
        generation: int,
    ) -> None:
        entry = Entry(
            generation=generation,
            status=response.status_code,
            headers=tuple(
                (name, value)
                for name, value in response.items()
                if name.lower() not in UNSTORED_HEADERS
            ),
            content=_to_stored(request, response.content),
            csp_config=getattr(response, "_csp_config", None),
            csp_ro_config=getattr(response, "_csp_ro_config", None),
        )
        try:
            store.set(key, entry, timeout=settings.ATLAS_PAGE_CACHE_SECONDS)
        except Exception as exc:  # The response still goes out; only the entry is lost.
            _mark_unavailable(exc)

    def replay(self, request: HttpRequest, entry: Entry) -> HttpResponseBase:
        content = _from_stored(request, entry.content)
        response = HttpResponse(content, status=entry.status)
        for name, value in entry.headers:
            response[name] = value
        response["Content-Length"] = str(len(content))
        response[CACHE_HEADER] = "hit"
        if entry.csp_config is not None:
            response._csp_config = entry.csp_config  # type: ignore[attr-defined]
        if entry.csp_ro_config is not None:
            response._csp_ro_config = entry.csp_ro_config  # type: ignore[attr-defined]
        # The API's validators (config.api.conditional) hold on hits too.
        conditional = get_conditional_response(
            request,
            etag=response.get("ETag"),
            last_modified=parse_http_date_safe(response.get("Last-Modified", "")),
            response=response,
        )
        if conditional is not None:
            conditional[CACHE_HEADER] = "hit"
            return conditional
        if request.method == "HEAD":
            response.content = b""
            response["Content-Length"] = str(len(content))
        return response
