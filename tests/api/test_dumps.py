"""Open-data dumps: the service, the task and command, /api/v1/dumps/ and /catalog.jsonld."""

import csv
import datetime as dt
import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geojson
import pytest
from django.core.cache import cache
from django.core.management import call_command

from initiatives import dumps
from initiatives.dumps import TABLES, dump_get, dump_list, dump_write
from initiatives.models import Initiative, InitiativeLink, Plan, PublicationState
from initiatives.tasks import write_open_data_dump
from tests.conftest import AtlasMap
from tests.factories import (
    IndicatorFactory,
    InitiativeFactory,
    MeasurementFactory,
    MilestoneFactory,
    PartnershipFactory,
    PlanFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 14, 3, 15, tzinfo=dt.UTC)
DUMP_NAME = "atlas-2026-03-14.zip"
TABLE_NAMES = [table.name for table in TABLES]
EXPECTED_FILES = {
    *(f"{name}.csv" for name in TABLE_NAMES),
    *(f"{name}.json" for name in TABLE_NAMES),
    "jurisdictions.geojson",
    "initiatives.geojson",
    "LICENSE.txt",
    "README.md",
    "manifest.json",
}


@pytest.fixture(autouse=True)
def dumps_dir(settings, tmp_path) -> Path:
    """Every test writes its dumps into its own directory, never into the repository."""
    settings.ATLAS_DUMPS_DIR = tmp_path / "dumps"
    settings.ATLAS_DUMPS_KEEP = 3
    settings.ATLAS_DATA_LICENSE = "CC-BY-4.0"
    return tmp_path / "dumps"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters live in the cache; each test starts from none."""
    cache.clear()
    yield
    cache.clear()


@dataclass
class Records:
    published: Initiative
    draft: Initiative
    draft_plan: Plan


@pytest.fixture
def records(atlas_map: AtlasMap) -> Records:
    """A published initiative with every kind of child, a draft one and a draft plan."""
    chicago = atlas_map.chicago
    chicago.latitude, chicago.longitude = 41.8781, -87.6298
    chicago.save()
    draft_plan = PlanFactory.create(
        jurisdiction=chicago, slug="secret-plan", publication_state=PublicationState.DRAFT
    )
    published = InitiativeFactory.create(
        jurisdiction=chicago, slug="chicago-wifi", title="Library Wi-Fi", plan=draft_plan
    )
    MilestoneFactory.create(initiative=published, title="Half the branches")
    MeasurementFactory.create(indicator=IndicatorFactory.create(initiative=published))
    PartnershipFactory.create(initiative=published)
    SourceFactory.create(initiative=published)
    draft = InitiativeFactory.create(
        jurisdiction=atlas_map.springfield,
        slug="draft-secret",
        title="Unannounced scheme",
        publication_state=PublicationState.DRAFT,
    )
    MilestoneFactory.create(initiative=draft, title="Secret milestone")
    InitiativeLink.objects.create(
        from_initiative=published, to_initiative=draft, kind=InitiativeLink.Kind.INSPIRED_BY
    )
    return Records(published=published, draft=draft, draft_plan=draft_plan)


def read(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


def csv_rows(path: Path, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read(path, name))))


# ------------------------------------------------------------------ contents


def test_dump_holds_every_expected_file(records):
    """The zip holds a CSV and a JSON per table, two GeoJSON files, licence, README, manifest."""
    info = dump_write(now=NOW)

    assert info.name == DUMP_NAME
    with zipfile.ZipFile(info.path) as archive:
        assert set(archive.namelist()) == EXPECTED_FILES


def test_csv_files_parse_with_their_headers(records):
    """Each CSV parses, and its header is the table's columns."""
    info = dump_write(now=NOW)

    for table in TABLES:
        text = read(info.path, f"{table.name}.csv")
        header, *rows = list(csv.reader(io.StringIO(text)))
        assert tuple(header) == table.columns
        assert all(len(row) == len(header) for row in rows)
        assert len(rows) == info.rows[table.name]


def test_json_files_parse_and_match_the_csv(records):
    """Each JSON file is an array of objects with the CSV's rows."""
    info = dump_write(now=NOW)

    for table in TABLES:
        objects = json.loads(read(info.path, f"{table.name}.json"))
        assert isinstance(objects, list)
        assert len(objects) == info.rows[table.name]
        assert all(list(row) == list(table.columns) for row in objects)


def test_geojson_files_are_valid_feature_collections(records):
    """Both GeoJSON files are valid; an initiative sits at its jurisdiction's [lon, lat]."""
    info = dump_write(now=NOW)

    for name in ("jurisdictions.geojson", "initiatives.geojson"):
        collection = geojson.loads(read(info.path, name))
        assert collection.is_valid, collection.errors()
        assert collection["type"] == "FeatureCollection"
    initiatives = geojson.loads(read(info.path, "initiatives.geojson"))
    (wifi,) = initiatives["features"]
    assert wifi["properties"]["slug"] == "chicago-wifi"
    assert wifi["geometry"]["coordinates"] == [-87.6298, 41.8781]


def test_jurisdiction_without_coordinates_has_a_null_geometry(records):
    """An unlocated jurisdiction stays in the collection with geometry null (RFC 7946)."""
    info = dump_write(now=NOW)

    features = geojson.loads(read(info.path, "jurisdictions.geojson"))["features"]
    by_slug = {feature["properties"]["slug"]: feature for feature in features}
    assert by_slug["springfield"]["geometry"] is None
    assert by_slug["chicago"]["geometry"]["type"] == "Point"


def test_manifest_sha256_matches_each_file(records):
    """The manifest lists every other file with its size, SHA-256 and, for tables, row count."""
    info = dump_write(now=NOW)

    with zipfile.ZipFile(info.path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        entries = {entry["name"]: entry for entry in manifest["files"]}
        assert set(entries) == EXPECTED_FILES - {"manifest.json"}
        for name, entry in entries.items():
            data = archive.read(name)
            assert entry["sha256"] == hashlib.sha256(data).hexdigest(), name
            assert entry["size"] == len(data)
    assert entries["initiatives.csv"]["rows"] == 1
    assert manifest["date"] == "2026-03-14"


def test_only_published_initiatives_appear(records):
    """A draft initiative is in no file of the dump, nor are its children."""
    info = dump_write(now=NOW)

    with zipfile.ZipFile(info.path) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode()
            assert "draft-secret" not in text, name
            assert "Secret milestone" not in text, name
    assert [row["slug"] for row in csv_rows(info.path, "initiatives.csv")] == ["chicago-wifi"]


def test_links_to_unpublished_initiatives_are_left_out(records):
    """A link whose other end is a draft would reveal the draft; it stays out."""
    info = dump_write(now=NOW)

    assert csv_rows(info.path, "initiative_links.csv") == []


def test_unpublished_plan_is_left_out_and_not_referred_to(records):
    """A draft plan is not in plans, and a published initiative's plan_id does not name it."""
    info = dump_write(now=NOW)

    assert "secret-plan" not in read(info.path, "plans.csv")
    (wifi,) = csv_rows(info.path, "initiatives.csv")
    assert wifi["plan_id"] == ""
    assert json.loads(read(info.path, "initiatives.json"))[0]["plan_id"] is None


def test_published_children_are_included(records):
    """The published initiative's milestone, measurement, partnership and source are there."""
    info = dump_write(now=NOW)

    for table in ("milestones", "indicators", "measurements", "partnerships", "sources"):
        assert info.rows[table] == 1, table


def test_licence_defaults_to_cc_by(records):
    """LICENSE.txt names CC BY 4.0 and its address; the manifest says the same."""
    info = dump_write(now=NOW)

    text = read(info.path, "LICENSE.txt")
    assert "Creative Commons Attribution 4.0 International (CC-BY-4.0)" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text
    manifest = json.loads(read(info.path, "manifest.json"))
    assert manifest["license"]["id"] == "CC-BY-4.0"


def test_licence_is_configurable(records, settings):
    """ATLAS_DATA_LICENSE = CC0-1.0 puts CC0 in LICENSE.txt, the README and the manifest."""
    settings.ATLAS_DATA_LICENSE = "CC0-1.0"

    info = dump_write(now=NOW)

    assert "https://creativecommons.org/publicdomain/zero/1.0/" in read(info.path, "LICENSE.txt")
    assert "CC0-1.0" in read(info.path, "README.md")
    assert json.loads(read(info.path, "manifest.json"))["license"]["id"] == "CC0-1.0"


def test_readme_describes_files_columns_date_and_citation(records):
    """The README names each file and its columns, the date, the licence and how to cite."""
    info = dump_write(now=NOW)

    readme = read(info.path, "README.md")
    assert "2026-03-14" in readme
    assert "## How to cite" in readme
    for table in TABLES:
        assert f"{table.name}.csv" in readme
    assert "- `ocd_id`: OCD division id" in readme
    assert "initiatives.geojson" in readme


# ------------------------------------------------------------------ files on disk


def test_same_day_rerun_replaces_that_days_dump(records):
    """A second run on the same day leaves one zip for the day, with the newer data."""
    dump_write(now=NOW)
    InitiativeFactory.create(jurisdiction=records.published.jurisdiction, slug="second")

    info = dump_write(now=NOW + dt.timedelta(hours=5))

    assert [d.name for d in dump_list()] == [DUMP_NAME]
    assert info.rows["initiatives"] == 2
    assert "second" in read(info.path, "initiatives.csv")


def test_old_dumps_beyond_keep_are_pruned(db, dumps_dir):
    """With ATLAS_DUMPS_KEEP = 3, five days of dumps leave the newest three."""
    for day in range(5):
        dump_write(now=NOW + dt.timedelta(days=day))

    assert [d.name for d in dump_list()] == [
        "atlas-2026-03-18.zip",
        "atlas-2026-03-17.zip",
        "atlas-2026-03-16.zip",
    ]
    assert len(list(dumps_dir.glob("*.zip.json"))) == 3


def test_pruning_removes_stale_temporary_files_only(db, dumps_dir):
    """A crashed run's temporary file goes once a day old; a fresh one may still be in use."""
    dumps_dir.mkdir(parents=True)
    stale = dumps_dir / f".{DUMP_NAME}.abc.tmp"
    fresh = dumps_dir / f".{DUMP_NAME}.def.tmp"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    two_days_ago = (NOW - dt.timedelta(days=2)).timestamp()
    os.utime(stale, (two_days_ago, two_days_ago))

    dump_write(now=NOW)

    assert not stale.exists()
    assert fresh.exists()


def test_failed_dump_leaves_the_previous_one_and_no_temporary_file(records, dumps_dir, monkeypatch):
    """The zip is renamed into place only when complete; a failure changes nothing."""
    before = dump_write(now=NOW)

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(dumps, "_write_archive", broken)
    with pytest.raises(OSError, match="disk full"):
        dump_write(now=NOW)

    assert hashlib.sha256(before.path.read_bytes()).hexdigest() == before.sha256
    assert sorted(p.name for p in dumps_dir.iterdir()) == [DUMP_NAME, f"{DUMP_NAME}.json"]


def test_listing_hashes_a_dump_whose_sidecar_is_missing(records, dumps_dir):
    """Without its sidecar a dump is still listed, with its true SHA-256 and row counts."""
    info = dump_write(now=NOW)
    (dumps_dir / f"{DUMP_NAME}.json").unlink()

    (listed,) = dump_list()

    assert listed.sha256 == hashlib.sha256(info.path.read_bytes()).hexdigest()
    assert listed.rows["initiatives"] == 1


def test_dump_write_refuses_a_naive_datetime(db):
    with pytest.raises(ValueError, match="aware"):
        dump_write(now=dt.datetime(2026, 3, 14))  # noqa: DTZ001


# ------------------------------------------------------------------ task and command


def test_task_runs_eagerly_and_writes_a_dump(records, dumps_dir):
    """The nightly task, run eagerly, writes today's dump."""
    result = write_open_data_dump.apply()

    assert result.successful()
    assert Path(result.get()).parent == dumps_dir
    assert Path(result.get()).exists()


def test_task_retries_when_the_disk_fails(records, monkeypatch):
    """An OSError is retried rather than losing the night's dump."""
    calls: list[int] = []
    real = dumps.dump_write

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk busy")
        return real(**kwargs)

    monkeypatch.setattr("initiatives.tasks.dump_write", flaky)

    # throw=False: with eager propagation on, Celery would raise the Retry instead of retrying.
    result = write_open_data_dump.apply(throw=False)

    assert result.successful()
    assert len(calls) == 2


def test_task_is_late_acked_and_scheduled_nightly(settings):
    """acks_late, and beat runs it at 03:15 UTC."""
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "initiatives.tasks.write_open_data_dump"
    )

    assert write_open_data_dump.acks_late is True
    assert entry["schedule"].hour == {3}
    assert entry["schedule"].minute == {15}


def test_command_prints_the_path_and_counts(records, dumps_dir):
    """manage.py write_dump writes the dump now and says where and how many rows."""
    out = io.StringIO()

    call_command("write_dump", stdout=out)

    output = out.getvalue()
    (info,) = dump_list()
    assert str(info.path) in output
    assert "initiatives" in output


# ------------------------------------------------------------------ /api/v1/dumps/


def test_dump_list_is_newest_first_with_metadata(client, db):
    """Each dump is listed with name, date, size, SHA-256, download URL and licence."""
    older = dump_write(now=NOW - dt.timedelta(days=1))
    newer = dump_write(now=NOW)

    response = client.get("/api/v1/dumps/")

    assert response.status_code == 200
    body = response.json()
    assert [item["name"] for item in body] == [newer.name, older.name]
    assert body[0] == {
        "name": DUMP_NAME,
        "date": "2026-03-14",
        "size": newer.size,
        "sha256": newer.sha256,
        "url": f"http://testserver/api/v1/dumps/{DUMP_NAME}",
        "license": "CC-BY-4.0",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
    }


def test_dump_list_answers_304_while_unchanged(client, db):
    """The list carries an ETag; sent back, it gets a 304 until a new dump appears."""
    dump_write(now=NOW)
    etag = client.get("/api/v1/dumps/")["ETag"]

    assert client.get("/api/v1/dumps/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    dump_write(now=NOW + dt.timedelta(days=1))
    assert client.get("/api/v1/dumps/", HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_dump_list_is_empty_before_the_first_dump(client, db):
    response = client.get("/api/v1/dumps/")

    assert response.status_code == 200
    assert response.json() == []


def test_download_streams_the_zip_as_an_attachment(client, records):
    """The download is the zip itself, as an attachment under its own name."""
    info = dump_write(now=NOW)

    response = client.get(f"/api/v1/dumps/{DUMP_NAME}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="{DUMP_NAME}"'
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == info.sha256
    assert response["ETag"] == f'"{info.sha256}"'


def test_download_answers_304_to_a_matching_etag(client, db):
    info = dump_write(now=NOW)

    response = client.get(f"/api/v1/dumps/{DUMP_NAME}", HTTP_IF_NONE_MATCH=f'"{info.sha256}"')

    assert response.status_code == 304


@pytest.mark.parametrize(
    "name",
    [
        "../settings.py",
        "atlas-2020-01-01.zip/../x",
        "..%2F..%2Fconfig%2Fsettings%2Fbase.py",
        "%2E%2E/manage.py",
        "atlas-2026-03-14.zip.json",
        "atlas-2026-13-45.zip",
        "atlas-\uff12\uff10\uff12\uff16-03-14.zip",  # full-width digits
        "atlas-2020-01-01.zip",
    ],
)
def test_bad_or_unknown_names_are_a_problem_404(client, db, name):
    """Only well-formed names of existing dumps reach the disk; the rest are a 404 problem."""
    dump_write(now=NOW)

    response = client.get(f"/api/v1/dumps/{name}")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["status"] == 404


def test_dump_get_refuses_traversal_without_touching_the_disk(dumps_dir):
    """The name check is the selector's own, not only the URL's."""
    assert dump_get(name="../settings.py") is None
    assert dump_get(name=f"{DUMP_NAME}/../../x") is None


# ------------------------------------------------------------------ /catalog.jsonld


def test_catalog_is_a_dcat_catalog_in_json_ld(client, db):
    """/catalog.jsonld is JSON-LD: a dcat:Catalog with a dataset, licence and publisher."""
    dump_write(now=NOW)

    response = client.get("/catalog.jsonld")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/ld+json")
    document = json.loads(response.content)
    context = document["@context"]
    assert context["dcat"] == "http://www.w3.org/ns/dcat#"
    assert context["dct"] == "http://purl.org/dc/terms/"
    assert context["foaf"] == "http://xmlns.com/foaf/0.1/"
    assert document["@type"] == "dcat:Catalog"
    (dataset,) = document["dcat:dataset"]
    assert dataset["@type"] == "dcat:Dataset"
    assert dataset["dct:title"]
    assert dataset["dct:description"]
    assert dataset["dct:license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
    assert dataset["dct:publisher"]["foaf:name"] == "Digital Leadership Atlas"


def test_catalog_names_each_dump_as_a_distribution(client, db):
    """Every dump is a dcat:Distribution with its download URL, media type, size and date."""
    older = dump_write(now=NOW - dt.timedelta(days=1))
    newer = dump_write(now=NOW)

    document = client.get("/catalog.jsonld").json()

    distributions = document["dcat:dataset"][0]["dcat:distribution"]
    assert [d["dcat:downloadURL"]["@id"] for d in distributions] == [
        f"http://testserver/api/v1/dumps/{newer.name}",
        f"http://testserver/api/v1/dumps/{older.name}",
    ]
    first = distributions[0]
    assert first["@type"] == "dcat:Distribution"
    assert first["dcat:mediaType"] == "application/zip"
    assert first["dcat:byteSize"] == newer.size
    assert first["dct:issued"] == "2026-03-14"
    download = client.get(first["dcat:downloadURL"]["@id"].removeprefix("http://testserver"))
    assert download.status_code == 200


def test_catalog_follows_the_configured_licence(client, db, settings):
    settings.ATLAS_DATA_LICENSE = "CC0-1.0"

    document = client.get("/catalog.jsonld").json()

    assert document["dct:license"] == {"@id": "https://creativecommons.org/publicdomain/zero/1.0/"}
