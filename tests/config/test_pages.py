"""The foundation's pages answer with the demo data, in both languages."""

import pytest
from django.core.management import call_command

from tests.factories import InitiativeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db):
    call_command("seed_demo", verbosity=0)


def test_home_lists_the_demo_jurisdictions(client, demo):
    response = client.get("/en/")
    assert response.status_code == 200
    for name in ("Chicago", "New York City", "Boston", "Austin", "Paris", "Lyon"):
        assert name in response.content.decode()


def test_home_speaks_french_under_fr(client, demo):
    response = client.get("/fr/")
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_root_redirects_to_a_language(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] in {"/en/", "/fr/"}


@pytest.mark.parametrize(
    "url",
    [
        "/en/jurisdictions/chicago/",
        "/en/jurisdictions/paris/",
        "/fr/jurisdictions/lyon/",
        "/en/focus-areas/open-government/",
        "/fr/sectors/technology/",
    ],
)
def test_demo_pages_render(client, demo, url):
    assert client.get(url).status_code == 200


def test_every_published_demo_initiative_page_renders(client, demo):
    from initiatives.models import Initiative

    for initiative in Initiative.objects.published():
        assert client.get(initiative.get_absolute_url()).status_code == 200


def test_unpublished_initiatives_are_not_found_by_the_public(client, atlas_map):
    draft = InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state="draft")
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_the_chicago_editor_sees_a_chicago_draft(client, chicago_editor, atlas_map):
    draft = InitiativeFactory.create(jurisdiction=atlas_map.chicago, publication_state="draft")
    client.force_login(chicago_editor)
    assert client.get(draft.get_absolute_url()).status_code == 200


def test_an_unknown_slug_is_404(client, db):
    assert client.get("/en/jurisdictions/atlantis/").status_code == 404


def test_markdown_descriptions_are_sanitised_on_pages(client, atlas_map):
    initiative = InitiativeFactory.create(
        jurisdiction=atlas_map.chicago, description="Hello <script>alert(1)</script> **world**"
    )
    html = client.get(initiative.get_absolute_url()).content.decode()
    assert "<strong>world</strong>" in html
    assert "<script>alert(1)" not in html
