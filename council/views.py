"""The public page of an organization."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from council import selectors
from council.models import Organization
from initiatives.models import Initiative, Partnership
from initiatives.views import paginate


def organization_roles(initiative: Initiative, organization: Organization) -> list[str]:
    """
    The organization's roles in the initiative, its lead counted once.

    Being the lead organization and holding a partnership of role "lead" are the
    same fact recorded twice.
    """
    partnerships: list[Partnership] = getattr(initiative, "organization_partnerships", [])
    roles = [str(partnership.get_role_display()) for partnership in partnerships]
    is_lead = initiative.lead_organization_id == organization.pk
    if is_lead and not any(p.role == Partnership.Role.LEAD for p in partnerships):
        roles.insert(0, str(Partnership.Role.LEAD.label))
    return roles


def organization_detail(request: HttpRequest, slug: str) -> HttpResponse:
    organization = selectors.organization_page(slug=slug)
    listing = paginate(
        request,
        selectors.organization_initiatives(organization=organization, user=request.user),
    )
    return render(
        request,
        "council/organization_detail.html",
        {
            "organization": organization,
            **listing.context(),
            "initiative_roles": [
                (initiative, organization_roles(initiative, organization))
                for initiative in listing.page
            ],
            "memberships": list(
                selectors.organization_coalition_memberships(organization=organization)
            ),
            "og_title": organization.name,
            "og_description": organization.description,
        },
        status=listing.status,
    )
