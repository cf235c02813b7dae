import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cities.models import Jurisdiction
from tests.factories import JurisdictionFactory

pytestmark = pytest.mark.django_db


def test_ocd_id_is_unique(atlas_map):
    with pytest.raises(IntegrityError), transaction.atomic():
        Jurisdiction.objects.create(
            kind="place", name="Chicago again", slug="chicago-2", ocd_id=atlas_map.chicago.ocd_id
        )


def test_slug_is_unique(atlas_map):
    with pytest.raises(IntegrityError), transaction.atomic():
        Jurisdiction.objects.create(
            kind="place",
            name="Another Chicago",
            slug="chicago",
            ocd_id="ocd-division/country:us/state:oh/place:chicago",
        )


def test_full_clean_reports_duplicate_ocd_id_and_slug(atlas_map):
    duplicate = Jurisdiction(
        kind="place", name="Chicago", slug="chicago", ocd_id=atlas_map.chicago.ocd_id
    )
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert set(excinfo.value.error_dict) >= {"slug", "ocd_id"}


@pytest.mark.parametrize(
    "ocd_id",
    [
        "ocd-division/country:us/state:il/place:chicago",
        "ocd-division/country:fr/region:if/department:vp",
        "ocd-division/country:us/state:nm/place:española",
        "ocd-division/country:ca/csd:1001105",
        "ocd-division/region:eu",
    ],
)
def test_valid_ocd_ids_pass(ocd_id):
    Jurisdiction(kind="place", name="X", slug="x", ocd_id=ocd_id).clean_fields()


@pytest.mark.parametrize(
    "ocd_id",
    [
        "country:us/state:il",
        "ocd-division/country:US",
        "ocd-division/country:us/state il",
        "ocd-division/",
        "ocd-division/country:us//state:il",
        "ocd-division/Country:us",
        "ocd-division/country:us/state:",
    ],
)
def test_malformed_ocd_ids_are_refused(ocd_id):
    with pytest.raises(ValidationError) as excinfo:
        Jurisdiction(kind="place", name="X", slug="x", ocd_id=ocd_id).clean_fields()
    assert excinfo.value.error_dict["ocd_id"][0].code == "invalid_ocd_id"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("iso_code", "US-ZZ", "invalid_iso_3166"),
        ("iso_code", "XX", "invalid_iso_3166"),
        ("wikidata_qid", "1297", "invalid_qid"),
        ("time_zone", "America/Atlantis", "invalid_time_zone"),
        ("boundary", {"type": "Point", "coordinates": [1, 2]}, "invalid_boundary"),
    ],
)
def test_identifier_validators_refuse_bad_values(field, value, code):
    jurisdiction = Jurisdiction(
        kind="place", name="X", slug="x", ocd_id="ocd-division/country:us", **{field: value}
    )
    with pytest.raises(ValidationError) as excinfo:
        jurisdiction.clean_fields()
    assert excinfo.value.error_dict[field][0].code == code


def test_good_identifiers_pass():
    Jurisdiction(
        kind="place",
        name="Chicago",
        slug="chicago",
        ocd_id="ocd-division/country:us/state:il/place:chicago",
        iso_code="US-IL",
        wikidata_qid="Q1297",
        time_zone="America/Chicago",
        latitude=41.88,
        longitude=-87.63,
        boundary={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]},
    ).clean_fields()


def test_latitude_without_longitude_is_refused():
    jurisdiction = Jurisdiction(
        kind="place", name="X", slug="x", ocd_id="ocd-division/country:us", latitude=10
    )
    with pytest.raises(ValidationError):
        jurisdiction.full_clean()


def test_path_and_depth_follow_the_tree(atlas_map):
    chicago = atlas_map.chicago
    assert chicago.depth == 2
    assert chicago.ancestor_ids == [atlas_map.us.pk, atlas_map.illinois.pk]
    assert chicago.path == f"{atlas_map.us.pk}/{atlas_map.illinois.pk}/{chicago.pk}/"


def test_ancestors_cost_one_query_at_any_depth(atlas_map, django_assert_num_queries):
    deepest = atlas_map.chicago
    for level in range(5):
        deepest = JurisdictionFactory.create(parent=deepest, name=f"Ward {level}")
    with django_assert_num_queries(1):
        names = [j.name for j in deepest.ancestors()]
    assert names[:3] == ["United States", "Illinois", "Chicago"]
    assert len(names) == 7


def test_descendants_cost_one_query(atlas_map, django_assert_num_queries):
    with django_assert_num_queries(1):
        names = {j.name for j in atlas_map.us.descendants()}
    assert names == {"Illinois", "Chicago", "Springfield", "New York", "New York City"}


def test_descendants_do_not_leak_to_ids_with_the_same_prefix(atlas_map):
    """Path segments end with a separator, so id 1 never matches id 12."""
    others = [JurisdictionFactory.create() for _ in range(12)]
    root = others[0]
    assert not root.descendants().exists()


def test_moving_a_node_moves_its_subtree(atlas_map):
    ward = JurisdictionFactory.create(parent=atlas_map.chicago, name="Ward 1")
    atlas_map.chicago.parent = atlas_map.new_york
    atlas_map.chicago.save()
    ward.refresh_from_db()
    assert ward.ancestor_ids == [atlas_map.us.pk, atlas_map.new_york.pk, atlas_map.chicago.pk]
    assert ward.depth == 3
    assert ward in atlas_map.new_york.descendants()
    assert ward not in atlas_map.illinois.descendants()


def test_a_jurisdiction_cannot_move_under_its_own_descendant(atlas_map):
    illinois = Jurisdiction.objects.get(pk=atlas_map.illinois.pk)
    illinois.parent = atlas_map.chicago
    with pytest.raises(ValidationError) as excinfo:
        illinois.full_clean()
    assert "parent" in excinfo.value.error_dict


def test_within_unites_several_subtrees(atlas_map):
    found = set(Jurisdiction.objects.within([atlas_map.chicago, atlas_map.new_york]))
    assert found == {atlas_map.chicago, atlas_map.new_york, atlas_map.nyc}


def test_every_jurisdiction_links_to_its_page(atlas_map):
    assert atlas_map.chicago.get_absolute_url() == "/en/jurisdictions/chicago/"
