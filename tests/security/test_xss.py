"""
No payload survives: Markdown fields and comments are sanitised wherever they are shown.

Each page is compared with the same page rendered with harmless text, so the
page's own scripts and forms are not counted: only what a payload adds is.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.test import Client

from cities.markdown import render_markdown
from council.models import Organization
from initiatives.models import Initiative
from tests.conftest import AtlasMap
from tests.factories import InitiativeFactory, OrganizationFactory, PlanFactory
from tests.security.xss import PAYLOADS, dangers

HARMLESS = "A *harmless* description with a [link](https://example.org)."


def test_there_are_at_least_fifty_payloads() -> None:
    assert len(set(PAYLOADS)) >= 50


def test_the_checker_sees_the_payloads_unsanitised() -> None:
    # A checker blind to these would pass anything: it must flag the raw HTML ones.
    flagged = [payload for payload in PAYLOADS if dangers(payload)]
    assert len(flagged) >= 40


@pytest.mark.parametrize("payload", PAYLOADS)
def test_markdown_rendering_removes_every_payload(payload: str) -> None:
    assert dangers(str(render_markdown(payload))) == []


MARK = "\n\nPayload-under-test."


def _added_dangers(client: Client, url: str, baseline_html: str, payload: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    # The text after the payload shows, so the page did render this payload (unless
    # the payload is an unclosed <style>, whose content the sanitiser drops whole).
    if MARK.strip() in render_markdown(payload + MARK):
        assert MARK.strip() in html
    page = Counter(dangers(html))
    page.subtract(Counter(dangers(baseline_html)))
    return sorted(danger for danger, count in page.items() if count > 0)


@pytest.mark.django_db
class TestPublicPages:
    def test_initiative_description(self, client: Client, atlas_map: AtlasMap) -> None:
        initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago, description=HARMLESS)
        url = initiative.get_absolute_url()
        baseline = client.get(url).content.decode()
        for payload in PAYLOADS:
            Initiative.objects.filter(pk=initiative.pk).update(description=payload + MARK)
            assert _added_dangers(client, url, baseline, payload) == [], payload

    def test_plan_description(self, client: Client, atlas_map: AtlasMap) -> None:
        plan = PlanFactory.create(jurisdiction=atlas_map.chicago, description=HARMLESS)
        url = plan.get_absolute_url()
        baseline = client.get(url).content.decode()
        for payload in PAYLOADS:
            type(plan).objects.filter(pk=plan.pk).update(description=payload + MARK)
            assert _added_dangers(client, url, baseline, payload) == [], payload

    def test_organization_description(self, client: Client, atlas_map: AtlasMap) -> None:
        organization = OrganizationFactory.create(description=HARMLESS)
        url = organization.get_absolute_url()
        baseline = client.get(url).content.decode()
        for payload in PAYLOADS:
            Organization.objects.filter(pk=organization.pk).update(description=payload + MARK)
            assert _added_dangers(client, url, baseline, payload) == [], payload

    def test_jurisdiction_description(self, client: Client, atlas_map: AtlasMap) -> None:
        chicago = atlas_map.chicago
        type(chicago).objects.filter(pk=chicago.pk).update(description=HARMLESS)
        url = chicago.get_absolute_url()
        baseline = client.get(url).content.decode()
        for payload in PAYLOADS:
            type(chicago).objects.filter(pk=chicago.pk).update(description=payload + MARK)
            assert _added_dangers(client, url, baseline, payload) == [], payload


@pytest.mark.django_db
class TestContributionsAndWorkspace:
    def test_accepted_comments(self, client: Client, atlas_map: AtlasMap) -> None:
        from council.models import Contribution

        initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
        comment = Contribution.objects.create(
            kind=Contribution.Kind.COMMENT,
            state=Contribution.State.ACCEPTED,
            jurisdiction=atlas_map.chicago,
            initiative=initiative,
            name="A reader",
            email="reader@example.org",
            body=HARMLESS,
            client_digest="xss",
        )
        url = initiative.get_absolute_url()
        baseline = client.get(url).content.decode()
        for payload in PAYLOADS:
            Contribution.objects.filter(pk=comment.pk).update(body=payload + MARK)
            assert _added_dangers(client, url, baseline, payload) == [], payload

    def test_comment_author_names(self, client: Client, atlas_map: AtlasMap) -> None:
        from council.models import Contribution

        initiative = InitiativeFactory.create(jurisdiction=atlas_map.chicago)
        url = initiative.get_absolute_url()
        baseline = client.get(url).content.decode()
        comment = Contribution.objects.create(
            kind=Contribution.Kind.COMMENT,
            state=Contribution.State.ACCEPTED,
            jurisdiction=atlas_map.chicago,
            initiative=initiative,
            name="x",
            email="reader@example.org",
            body=MARK,
            client_digest="xss",
        )
        for payload in PAYLOADS:
            # A name is plain text, escaped by the template, never Markdown.
            Contribution.objects.filter(pk=comment.pk).update(name=payload[:100])
            page = Counter(dangers(client.get(url).content.decode()))
            page.subtract(Counter(dangers(baseline)))
            assert [d for d, count in page.items() if count > 0] == [], payload

    def test_the_markdown_preview(self, client: Client, chicago_editor: Any) -> None:
        from django.urls import reverse

        client.force_login(chicago_editor)
        url = reverse("council:editing:markdown-preview")
        for payload in PAYLOADS:
            response = client.post(url, {"text": payload})
            assert response.status_code == 200
            assert dangers(response.content.decode()) == [], payload

    def test_the_review_page(
        self, client: Client, atlas_map: AtlasMap, chicago_reviewer: Any
    ) -> None:
        from django.urls import reverse

        from tests.conftest import verify_second_factor

        initiative = InitiativeFactory.create(
            jurisdiction=atlas_map.chicago, publication_state="review", description=HARMLESS
        )
        client.force_login(chicago_reviewer)
        verify_second_factor(client, chicago_reviewer)
        url = reverse(
            "council:workspace:review-detail",
            kwargs={"kind": "initiatives", "slug": initiative.slug},
        )
        baseline = client.get(url).content.decode()
        for payload in PAYLOADS:
            Initiative.objects.filter(pk=initiative.pk).update(description=payload + MARK)
            assert _added_dangers(client, url, baseline, payload) == [], payload
