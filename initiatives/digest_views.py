"""
Atlas staff's preview of any subscriber's next digest, as the email will show it.

Only staff see subscribers' addresses and what they follow: anyone else gets a 404,
as if the page were not there.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from council import permissions
from council.decorators import workspace_view
from initiatives.digest_forms import DigestPreviewForm
from initiatives.digests import preview_digests


@workspace_view
@require_GET
@never_cache
def preview(request: HttpRequest) -> HttpResponse:
    """Pick a subscriber by address; see each subscription's digest so far and the last one."""
    if not permissions.is_atlas_staff(request.user):
        raise Http404
    form = DigestPreviewForm(request.GET or None)
    if not form.is_bound:
        return render(request, "digests/preview.html", {"form": form, "previews": None})
    if not form.is_valid():
        return render(request, "digests/preview.html", {"form": form, "previews": None}, status=400)
    previews = preview_digests(subscriptions=form.subscriptions, now=timezone.now())
    return render(request, "digests/preview.html", {"form": form, "previews": previews})
