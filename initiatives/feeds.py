"""Atom feeds of published initiatives: all of them, per jurisdiction, per focus area."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from cities.models import Jurisdiction
from initiatives import selectors
from initiatives.models import FocusArea, Initiative

FEED_LENGTH = 50


class InitiativeFeed(Feed):
    """What every initiative feed says about one initiative."""

    feed_type = Atom1Feed

    def item_title(self, item: Initiative) -> str:
        return item.title

    def item_description(self, item: Initiative) -> str:
        # Atom carries the summary as HTML; escaping shows it as the plain text it is.
        return escape(item.summary)

    def item_link(self, item: Initiative) -> str:
        return item.get_absolute_url()

    def item_guid(self, item: Initiative) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: Initiative) -> datetime.datetime:
        return item.published_at or item.created_at

    def item_updateddate(self, item: Initiative) -> datetime.datetime:
        return item.updated_at

    def item_author_name(self, item: Initiative) -> str:
        return _("Council of %(jurisdiction)s") % {"jurisdiction": item.jurisdiction.name}

    def item_author_link(self, item: Initiative) -> str:
        return item.jurisdiction.get_absolute_url()

    def item_categories(self, item: Initiative) -> list[str]:
        return [area.name for area in item.focus_areas.all()]


class UpdatesFeed(InitiativeFeed):
    """The latest published initiatives everywhere."""

    def title(self) -> str:
        return _("Digital Leadership Atlas: latest initiatives")

    def subtitle(self) -> str:
        return _("Initiatives recently published or changed in the Digital Leadership Atlas.")

    def link(self) -> str:
        return reverse("cities:home")

    def items(self) -> list[Initiative]:
        return selectors.feed_initiatives(limit=FEED_LENGTH)


class JurisdictionFeed(InitiativeFeed):
    """A jurisdiction's published initiatives, with those of every place within it."""

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Jurisdiction:
        return get_object_or_404(Jurisdiction, slug=kwargs["slug"])

    def title(self, obj: Jurisdiction) -> str:
        return _("Initiatives in %(name)s") % {"name": obj.name}

    def subtitle(self, obj: Jurisdiction) -> str:
        return _("Initiatives of %(name)s and the places within it, latest first.") % {
            "name": obj.name
        }

    def link(self, obj: Jurisdiction) -> str:
        return obj.get_absolute_url()

    def items(self, obj: Jurisdiction) -> list[Initiative]:
        return selectors.feed_initiatives(jurisdiction=obj, limit=FEED_LENGTH)


class FocusAreaFeed(InitiativeFeed):
    """Published initiatives of one focus area, across all jurisdictions."""

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> FocusArea:
        return get_object_or_404(FocusArea, slug=kwargs["slug"])

    def title(self, obj: FocusArea) -> str:
        return _("Initiatives in %(name)s") % {"name": obj.name}

    def subtitle(self, obj: FocusArea) -> str:
        return _("Initiatives in the focus area %(name)s, in every jurisdiction, latest first.") % {
            "name": obj.name
        }

    def link(self, obj: FocusArea) -> str:
        return obj.get_absolute_url()

    def items(self, obj: FocusArea) -> list[Initiative]:
        return selectors.feed_initiatives(focus_area=obj, limit=FEED_LENGTH)
