import pytest

pytestmark = pytest.mark.django_db


def test_illinois_contains_chicago(atlas_map):
    """Descendants of Illinois include Chicago and Springfield, not New York City."""
    assert set(atlas_map.illinois.descendants()) == {atlas_map.chicago, atlas_map.springfield}
