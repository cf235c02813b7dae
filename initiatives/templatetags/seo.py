"""
What search engines and link previews read: canonical and alternate URLs, and
schema.org JSON-LD.

The canonical URL is the request's path made absolute, without its query
string except for the parameters that pick different content (CANONICAL_PARAMS):
a second page of a list, the jurisdictions being compared, the kind of a
coverage matrix. Sorting, filters and tracking parameters fall away, so every
variant of a page points search engines to one address.
"""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, QueryDict
from django.urls import NoReverseMatch, reverse, translate_url
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cities.models import Jurisdiction
from council.models import Organization
from initiatives.models import FocusArea, Initiative, Partnership, Plan, Sector

register = template.Library()

CANONICAL_PARAMS = ("page", "j", "kind")

# Open Graph names a locale with its region; the Atlas speaks British English and French.
OG_LOCALES = {"en": "en_GB", "fr": "fr_FR"}

# The same escapes as django.utils.html.json_script: nothing in the data can
# close the script element or open a comment inside it.
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


# ------------------------------------------------------------------------------
# URLs
# ------------------------------------------------------------------------------


def _canonical_query(request: HttpRequest) -> str:
    kept = QueryDict(mutable=True)
    for name in CANONICAL_PARAMS:
        values = [value for value in request.GET.getlist(name) if value]
        if name == "page":
            values = [value for value in values if value != "1"][:1]
        if values:
            kept.setlist(name, values)
    encoded = kept.urlencode()
    return f"?{encoded}" if encoded else ""


def canonical_url(request: HttpRequest) -> str:
    """The absolute address of the page shown, with only its meaningful parameters."""
    return request.build_absolute_uri(request.path) + _canonical_query(request)


def language_alternates(request: HttpRequest) -> list[tuple[str, str]]:
    """
    (hreflang, absolute URL) for the page in every language, then ``x-default``.

    ``x-default`` is the address without a language prefix, as in the sitemap:
    LocaleMiddleware sends each reader on to the page in their own language.
    """
    query = _canonical_query(request)
    default = ""
    alternates = []
    for code, _name in settings.LANGUAGES:
        path = translate_url(request.path, code)
        alternates.append((code, request.build_absolute_uri(path) + query))
        if code == settings.LANGUAGE_CODE and path.startswith(f"/{code}/"):
            unprefixed = path.removeprefix(f"/{code}")
            default = request.build_absolute_uri(unprefixed) + query
    if default:
        alternates.append(("x-default", default))
    return alternates


@register.simple_tag(takes_context=True, name="canonical_url")
def canonical_url_tag(context: template.Context) -> str:
    request = context.get("request")
    return canonical_url(request) if request is not None else ""


@register.simple_tag(takes_context=True)
def page_meta(context: template.Context) -> dict[str, Any]:
    """Canonical URL, language alternates and Open Graph locales for includes/meta.html."""
    request: HttpRequest | None = context.get("request")
    language = get_language() or settings.LANGUAGE_CODE
    return {
        "canonical": canonical_url(request) if request is not None else "",
        "alternates": language_alternates(request) if request is not None else [],
        "og_locale": OG_LOCALES.get(language, language),
        "og_locale_alternates": [
            OG_LOCALES.get(code, code) for code, _name in settings.LANGUAGES if code != language
        ],
    }


# ------------------------------------------------------------------------------
# JSON-LD
# ------------------------------------------------------------------------------


def _absolute(request: HttpRequest | None, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


def _is_loaded(instance: Any, relation: str) -> bool:
    """True when a relation was selected or prefetched, so reading it costs no query."""
    if relation in getattr(instance, "_prefetched_objects_cache", {}):
        return True
    return relation in instance._state.fields_cache


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def place(jurisdiction: Jurisdiction, request: HttpRequest | None, *, nest: bool = True) -> dict:
    """A ``City`` or ``AdministrativeArea``, inside its parent one level up."""
    data: dict[str, Any] = {
        "@type": "City" if jurisdiction.kind == Jurisdiction.Kind.PLACE else "AdministrativeArea",
        "name": jurisdiction.name,
        "url": _absolute(request, jurisdiction.get_absolute_url()),
        "identifier": jurisdiction.ocd_id,
    }
    if jurisdiction.latitude is not None and jurisdiction.longitude is not None:
        data["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": jurisdiction.latitude,
            "longitude": jurisdiction.longitude,
        }
    if jurisdiction.wikidata_qid:
        data["sameAs"] = f"https://www.wikidata.org/wiki/{jurisdiction.wikidata_qid}"
    if nest and jurisdiction.parent_id and _is_loaded(jurisdiction, "parent"):
        parent = jurisdiction.parent
        if parent is not None:
            data["containedInPlace"] = place(parent, request, nest=False)
    return data


def organization(org: Organization, request: HttpRequest | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "Organization",
        "name": org.name,
        "url": _absolute(request, org.get_absolute_url()),
        "sameAs": org.website,
    }
    if org.jurisdiction_id and _is_loaded(org, "jurisdiction") and org.jurisdiction is not None:
        data["location"] = place(org.jurisdiction, request, nest=False)
    return _compact(data)


def _defined_term(taxon: FocusArea | Sector, request: HttpRequest | None) -> dict[str, Any]:
    set_name = _("Focus areas") if isinstance(taxon, FocusArea) else _("Sectors")
    return _compact(
        {
            "@type": "DefinedTerm",
            "name": taxon.name,
            "description": taxon.description,
            "termCode": taxon.slug,
            "url": _absolute(request, taxon.get_absolute_url()),
            "inDefinedTermSet": {"@type": "DefinedTermSet", "name": set_name},
        }
    )


def project(initiative: Initiative, request: HttpRequest | None) -> dict[str, Any]:
    """An initiative as a schema.org ``Project``, with its place, funders and members."""
    data: dict[str, Any] = {
        "@type": "Project",
        "name": initiative.title,
        "description": initiative.summary,
        "url": _absolute(request, initiative.get_absolute_url()),
        "inLanguage": initiative.language,
        "startDate": initiative.start_date,
        "endDate": initiative.end_date,
        "dateModified": initiative.updated_at,
    }
    if _is_loaded(initiative, "jurisdiction"):
        data["location"] = place(initiative.jurisdiction, request)
    members: list[dict[str, Any]] = []
    funders: list[dict[str, Any]] = []
    lead = (
        initiative.lead_organization
        if initiative.lead_organization_id and _is_loaded(initiative, "lead_organization")
        else None
    )
    if lead is not None:
        members.append(organization(lead, request))
    if _is_loaded(initiative, "partnerships"):
        for partnership in initiative.partnerships.all():
            entry = organization(partnership.organization, request)
            target = funders if partnership.role == Partnership.Role.FUNDER else members
            if entry not in target:
                target.append(entry)
    data["member"] = members
    data["funder"] = funders
    if _is_loaded(initiative, "focus_areas"):
        data["about"] = [_defined_term(area, request) for area in initiative.focus_areas.all()]
    return _compact(data)


def creative_work(plan: Plan, request: HttpRequest | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@type": "CreativeWork",
        "name": plan.title,
        "description": plan.summary,
        "url": _absolute(request, plan.get_absolute_url()),
        "inLanguage": plan.language,
        "datePublished": plan.published_on,
        "dateModified": plan.updated_at,
    }
    if plan.url:
        data["associatedMedia"] = {"@type": "MediaObject", "contentUrl": plan.url}
    if _is_loaded(plan, "jurisdiction"):
        data["spatialCoverage"] = place(plan.jurisdiction, request)
    return _compact(data)


def website(request: HttpRequest | None) -> dict[str, Any]:
    """The Atlas itself, with a SearchAction so search engines can offer its search."""
    return {
        "@type": "WebSite",
        "name": _("Digital Leadership Atlas"),
        "url": _absolute(request, reverse("cities:home")),
        "inLanguage": get_language() or settings.LANGUAGE_CODE,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": _absolute(request, reverse("initiatives:search"))
                + "?q={search_term_string}",
            },
            "query-input": "required name=search_term_string",
        },
    }


def structured_data(obj: Any, request: HttpRequest | None) -> dict[str, Any]:
    """The schema.org description of ``obj``; the site itself when there is none."""
    if isinstance(obj, Initiative):
        data = project(obj, request)
    elif isinstance(obj, Jurisdiction):
        data = place(obj, request)
        if obj.description:
            data["description"] = obj.description
    elif isinstance(obj, Organization):
        data = organization(obj, request)
        if obj.description:
            data["description"] = obj.description
    elif isinstance(obj, Plan):
        data = creative_work(obj, request)
    elif isinstance(obj, FocusArea | Sector):
        data = _defined_term(obj, request)
    elif obj is None or obj == "":
        data = website(request)
    else:
        data = {"@type": "WebPage", "name": str(obj)}
        try:
            data["url"] = _absolute(request, obj.get_absolute_url())
        except (AttributeError, NoReverseMatch):
            data["url"] = canonical_url(request) if request is not None else ""
    return {"@context": "https://schema.org", **data}


def render_jsonld(data: dict[str, Any]) -> SafeString:
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_SCRIPT_ESCAPES)
    # Safe: every character that could end the script element is escaped above.
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308


@register.simple_tag(takes_context=True)
def jsonld(context: template.Context, obj: Any = None) -> SafeString:
    """``{% jsonld initiative %}``: a JSON-LD script for ``obj``, or for the site without one."""
    return render_jsonld(structured_data(obj, context.get("request")))
