"""
The base layout, the error pages and the error summary, rendered by Django without a browser:
fast checks of what the browser tests rely on.
"""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template import loader
from django.test import Client, RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def next_value(html: str) -> str:
    match = re.search(r'<input name="next" type="hidden" value="([^"]*)"', html)
    assert match, "the page has no language switch"
    return match.group(1).replace("&amp;", "&")


def test_language_switch_keeps_path_and_query(client: Client) -> None:
    """Switching language on /en/…?query lands on the same page and query in French."""
    html = client.get("/en/?q=open+data&page=2").content.decode()
    assert next_value(html) == "/?q=open+data&page=2"
    assert 'lang="fr"' in html
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": next_value(html)}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/fr/?q=open+data&page=2"
    assert response.status_code == 200
    assert '<html lang="fr">' in response.content.decode()


def test_language_switch_does_not_depend_on_the_browser_language(client: Client) -> None:
    """
    A reader whose browser asks for French, on an English page, can switch to French.

    set_language resolves `next` in the language of its own request (here French, from the
    browser), so a `next` still carrying /en/ would not translate and the reader would stay
    on the English page.
    """
    html = client.get("/en/coverage/?kind=place", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    response = client.post(
        "/i18n/setlang/",
        {"language": "fr", "next": next_value(html)},
        HTTP_ACCEPT_LANGUAGE="fr",
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/fr/coverage/?kind=place"
    assert '<html lang="fr">' in response.content.decode()


def test_page_layout(client: Client) -> None:
    """Skip link, landmarks, the main navigation with the current page, footer data links."""
    html = client.get("/en/").content.decode()
    assert '<html lang="en">' in html
    assert '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert '<header class="site-header">' in html
    assert '<footer class="site-footer">' in html
    assert '<nav class="site-nav" aria-label="Main">' in html
    assert 'href="/en/" aria-current="page">Home</a>' in html
    for href in ("/api/v1/docs/", "/api/v1/dumps/", "/en/feeds/updates.atom"):
        assert f'href="{href}"' in html
    assert re.search(r'<meta name="description" content="[^"<>]{20,}">', html)
    assert 'rel="canonical"' in html
    assert "application/ld+json" in html
    assert re.search(r'<script src="/static/js/atlas\.js" defer', html)
    # Chart.js and Leaflet load only where needed, from this site.
    assert 'data-chart-src="/static/vendor/chart.js/chart.umd.min.js"' in html
    assert 'data-leaflet-src="/static/vendor/leaflet/leaflet.js"' in html
    # No script or stylesheet comes from another host.
    assert not re.search(r'<script[^>]+src="(https?:)?//', html)
    assert not re.search(r'<link[^>]+rel="stylesheet"[^>]+href="(https?:)?//', html)


def test_404_in_the_language_of_the_url(client: Client) -> None:
    """An unknown slug under /fr/ gets the 404 page in French, with the layout."""
    response = client.get("/fr/jurisdictions/no-such-place/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="fr">' in html
    assert 'class="error-page"' in html
    assert next_value(html) == "/jurisdictions/no-such-place/"


def test_404_for_a_path_that_matches_nothing(client: Client) -> None:
    """A path no URL pattern matches still gets the 404 page, in the language of its prefix."""
    response = client.get("/fr/nothing/here/")
    assert response.status_code == 404
    assert '<html lang="fr">' in response.content.decode()


def test_500_page_needs_no_request_or_database() -> None:
    """Django renders 500.html with an empty context; the page stands on its own."""
    html = loader.get_template("500.html").render()
    assert "<!DOCTYPE html>" in html
    assert '<main id="main"' in html
    response = defaults.server_error(RequestFactory().get("/en/"))
    assert response.status_code == 500
    assert b'<a class="skip-link" href="#main">' in response.content


class ProblemForm(forms.Form):
    q = forms.CharField(max_length=5)
    status = forms.MultipleChoiceField(
        choices=[("active", "Active")], widget=forms.CheckboxSelectMultiple
    )
    when = forms.DateField()

    def clean(self) -> dict[str, object]:
        raise forms.ValidationError("The filters contradict each other.")


def render_summary(**context: object) -> str:
    return loader.get_template("includes/error_summary.html").render(context)


def test_error_summary_links_each_message_to_its_field() -> None:
    """Each field error links to the field's own id; errors of the whole form are plain."""
    form = ProblemForm(data={"q": "far too long", "status": ["nope"], "when": "tomorrow"})
    assert not form.is_valid()
    html = render_summary(form=form)
    assert 'class="error-summary" role="alert"' in html
    assert 'tabindex="-1"' in html
    assert '<a href="#id_q">' in html
    # A checkbox group's label points nowhere, so the link goes to the first box.
    assert '<a href="#id_status_0">' in html
    assert '<a href="#id_when">' in html
    assert "<li>The filters contradict each other.</li>" in html


def test_error_summary_from_an_errors_dict() -> None:
    html = render_summary(errors={"j": ["Choose between 2 and 4."], "__all__": ["Try again."]})
    assert '<a href="#id_j">Choose between 2 and 4.</a>' in html
    assert "<li>Try again.</li>" in html


def test_error_summary_is_absent_without_errors() -> None:
    assert render_summary(form=ProblemForm()).strip() == ""
    assert render_summary(errors={}).strip() == ""
