"""
The production security headers, kept apart from the settings module so that the tests can
apply exactly what production sends without importing production's settings, which refuse to
load without their secrets.
"""

import base64
import hashlib
import re
from typing import Any
from urllib.parse import urlsplit

from django.utils.csp import CSP

# Browser features no page of the Atlas uses. Denying them means a script that slipped in
# could not reach the camera, the location or a payment sheet, nor join ad cohorts.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

# The search page's jurisdiction facet indents each level with a style attribute
# (templates/initiatives/_search_facets.html). Allowing those exact values by hash keeps every
# other inline style, and every <style> element, refused; deeper levels merely lose indentation.
FACET_INDENT_LEVELS = range(1, 13)


def csp_hash(value: str) -> str:
    """The CSP source that allows exactly this inline value."""
    digest = base64.b64encode(hashlib.sha256(value.encode()).digest()).decode()
    return f"'sha256-{digest}'"


def style_attribute_hashes() -> list[str]:
    """The CSP hash sources of the style attributes the templates write."""
    return [csp_hash(f"padding-left: {level}rem") for level in FACET_INDENT_LEVELS]


def tiles_origin(tiles_url: str) -> str:
    """
    The CSP source for a tile URL template such as ``https://{s}.tile.example.org/{z}/{x}/{y}.png``.

    A placeholder in the host (the ``{s}`` subdomain) becomes CSP's leftmost-label wildcard.
    """
    parts = urlsplit(tiles_url)
    if not parts.scheme or not parts.netloc:
        return ""
    host = re.sub(r"\{[^}]*\}", "*", parts.netloc)
    return f"{parts.scheme}://{host}"


def content_security_policy(*, tiles_url: str = "") -> dict[str, list[str]]:
    """
    SECURE_CSP for Django's ContentSecurityPolicyMiddleware.

    Scripts run only from the Atlas's own origin or with the request's nonce: atlas.js loads
    the vendored Chart.js and Leaflet from the same origin, which 'self' allows.
    """
    img_src = [CSP.SELF, "data:"]
    if origin := tiles_origin(tiles_url):
        img_src.append(origin)
    return {
        "default-src": [CSP.SELF],
        "script-src": [CSP.SELF, CSP.NONCE],
        "style-src": [CSP.SELF],
        "style-src-elem": [CSP.SELF],
        "style-src-attr": [CSP.UNSAFE_HASHES, *style_attribute_hashes()],
        "img-src": img_src,
        "font-src": [CSP.SELF],
        "connect-src": [CSP.SELF],
        "object-src": [CSP.NONE],
        "frame-ancestors": [CSP.NONE],
        "base-uri": [CSP.SELF],
        "form-action": [CSP.SELF],
    }


def api_docs_policy() -> dict[str, list[str]]:
    """
    The API documentation pages' policy: the site's, except that styles may be inline.

    Swagger UI and Redoc write their own styles into the page at run time, which no
    nonce or hash can name; Redoc also searches in a worker made from a blob. Scripts
    keep the site's rule: same origin or the nonce, never inline without it.
    """
    policy = content_security_policy()
    policy.update(
        {
            "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
            "style-src-elem": [CSP.SELF, CSP.UNSAFE_INLINE],
            "style-src-attr": [CSP.UNSAFE_INLINE],
            "worker-src": [CSP.SELF, "blob:"],
        }
    )
    return policy


SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
PRODUCTION_MIDDLEWARE = [
    # Right after SecurityMiddleware, as WhiteNoise asks: static files skip the rest of the
    # stack but still get the security headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "config.headers.PermissionsPolicyMiddleware",
]


def production_middleware(base: list[str]) -> list[str]:
    """Base's middleware with production's inserted right after SecurityMiddleware."""
    at = base.index(SECURITY_MIDDLEWARE) + 1
    return [*base[:at], *PRODUCTION_MIDDLEWARE, *base[at:]]


def production_templates(base: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Base's TEMPLATES with the context processor that gives templates {{ csp_nonce }}."""
    templates = []
    for engine in base:
        engine = {**engine, "OPTIONS": {**engine.get("OPTIONS", {})}}
        if engine["BACKEND"] == "django.template.backends.django.DjangoTemplates":
            processors = list(engine["OPTIONS"].get("context_processors", []))
            processors.append("django.template.context_processors.csp")
            engine["OPTIONS"]["context_processors"] = processors
        templates.append(engine)
    return templates
