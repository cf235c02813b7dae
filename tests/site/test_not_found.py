"""The 404 page: in the language of the address, and cheap whatever was asked for."""

import pytest

pytestmark = pytest.mark.django_db


def test_an_unknown_slug_costs_its_one_lookup(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get("/fr/jurisdictions/atlantide/")
    assert response.status_code == 404
    assert '<html lang="fr">' in response.content.decode()


def test_an_address_matching_nothing_runs_no_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/en/no/such/page/")
    assert response.status_code == 404
    assert 'content="noindex"' in response.content.decode()
