"""Open-data dumps over HTTP: the list, the downloads and the DCAT catalog at /catalog.jsonld."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import FileResponse, HttpResponseBase, HttpResponseNotModified
from django.urls import reverse
from django.utils.http import http_date, parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotAcceptable, NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.conditional import ConditionalResponseMixin
from initiatives.dumps import DATASET_TITLE, DumpInfo, data_license, dump_get, dump_list

ZIP_MEDIA_TYPE = "application/zip"
PROBLEM_MEDIA_TYPE = "application/problem+json"
JSONLD_MEDIA_TYPE = "application/ld+json"
OPEN_DATA_TAG = "open data"


class _FirstRendererOnMismatch(DefaultContentNegotiation):
    """A download or catalog answers in its one format even to an Accept that names another."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], str(renderers[0].media_type)


class JSONLDRenderer(JSONRenderer):
    media_type = JSONLD_MEDIA_TYPE
    format = "jsonld"


def _download_url(request: Request, info: DumpInfo) -> str:
    return request.build_absolute_uri(reverse("api-dump", kwargs={"name": info.name}))


def _example_dump(day: str, half_digest: str) -> dict[str, Any]:
    return {
        "name": f"atlas-{day}.zip",
        "date": day,
        "size": 58566,
        "sha256": half_digest * 2,
        "url": f"https://atlas.example.org/api/v1/dumps/atlas-{day}.zip",
        "license": "CC-BY-4.0",
        "license_url": "https://creativecommons.org/licenses/by/4.0/",
    }


class DumpListView(ConditionalResponseMixin, APIView):
    """The open-data dumps, newest first."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _FirstRendererOnMismatch

    @extend_schema_serializer(component_name="Dump")
    class OutputSerializer(serializers.Serializer[DumpInfo]):
        name = serializers.CharField(help_text="The file name, atlas-YYYY-MM-DD.zip.")
        date = serializers.DateField(help_text="The day (UTC) the dump was taken.")
        size = serializers.IntegerField(help_text="Bytes.")
        sha256 = serializers.CharField(help_text="SHA-256 of the zip, in hex.")
        url = serializers.SerializerMethodField(help_text="Where to download it.")
        license = serializers.SerializerMethodField(help_text="SPDX id of the data licence.")
        license_url = serializers.SerializerMethodField()

        def get_url(self, info: DumpInfo) -> str:
            return _download_url(self.context["request"], info)

        def get_license(self, info: DumpInfo) -> str:
            return data_license().id

        def get_license_url(self, info: DumpInfo) -> str:
            return data_license().url

    @extend_schema(
        operation_id="dumps_list",
        tags=[OPEN_DATA_TAG],
        responses=OutputSerializer(many=True),
        examples=[
            OpenApiExample(
                "Dumps",
                response_only=True,
                # A list response: drf-spectacular wraps the item in a list itself.
                value=_example_dump("2026-11-27", "5ec38f896d9837a121635500416e91b8"),
            )
        ],
    )
    def get(self, request: Request) -> Response:
        context = {"request": request}
        # many=True makes a ListSerializer, which the stubs' __init__ does not foresee.
        output = self.OutputSerializer(dump_list(), many=True, context=context)  # type: ignore[arg-type]
        return Response(output.data)


class DumpDownloadView(APIView):
    """One open-data dump, as a zip."""

    permission_classes = [AllowAny]
    # JSON only renders errors here; the zip itself goes out as a FileResponse.
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _FirstRendererOnMismatch

    @extend_schema(
        operation_id="dumps_download",
        tags=[OPEN_DATA_TAG],
        parameters=[
            OpenApiParameter(
                "name",
                str,
                OpenApiParameter.PATH,
                description="A dump's file name, atlas-YYYY-MM-DD.zip, as listed.",
            )
        ],
        responses={
            (200, ZIP_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description="The zip of CSV, JSON and GeoJSON files."
            ),
            304: OpenApiResponse(description="Unchanged since the ETag in If-None-Match."),
            (404, PROBLEM_MEDIA_TYPE): OpenApiResponse(
                OpenApiTypes.OBJECT, description="No such dump."
            ),
        },
    )
    def get(self, request: Request, name: str) -> HttpResponseBase:
        info = dump_get(name=name)
        if info is None:
            raise NotFound("No dump has this name.")
        etag = f'"{info.sha256}"'
        if etag in parse_etags(request.headers.get("If-None-Match", "")):
            return HttpResponseNotModified(headers={"ETag": etag})
        response = FileResponse(
            info.path.open("rb"),
            as_attachment=True,
            filename=info.name,
            content_type=ZIP_MEDIA_TYPE,
        )
        response["ETag"] = etag
        if info.modified is not None:
            response["Last-Modified"] = http_date(info.modified.timestamp())
        return response


def catalog(request: Request) -> dict[str, Any]:
    """The DCAT catalog of the dumps, as a JSON-LD document."""
    lic = data_license()
    home = request.build_absolute_uri("/")
    publisher = {"@type": "foaf:Organization", "foaf:name": "Digital Leadership Atlas"}
    distributions = [
        {
            "@id": _download_url(request, info),
            "@type": "dcat:Distribution",
            "dct:title": f"{DATASET_TITLE}, {info.date.isoformat()}",
            "dct:format": "ZIP",
            "dcat:downloadURL": {"@id": _download_url(request, info)},
            "dcat:mediaType": ZIP_MEDIA_TYPE,
            "dcat:byteSize": info.size,
            "dct:issued": info.date.isoformat(),
            "dct:license": {"@id": lic.url},
            "spdx:checksum": {
                "@type": "spdx:Checksum",
                "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                "spdx:checksumValue": info.sha256,
            },
        }
        for info in dump_list()
    ]
    dataset: dict[str, Any] = {
        "@id": request.build_absolute_uri(reverse("api-dumps")),
        "@type": "dcat:Dataset",
        "dct:title": DATASET_TITLE,
        "dct:description": (
            "Every published record of the Digital Leadership Atlas: jurisdictions, their "
            "plans, initiatives with milestones, indicators and sources, organizations and "
            "coalitions. Each dump is a zip of CSV, JSON and GeoJSON files with a README."
        ),
        "dct:license": {"@id": lic.url},
        "dct:publisher": publisher,
        "dcat:keyword": ["digital leadership", "smart cities", "open government", "initiatives"],
        "dcat:landingPage": {"@id": home},
        "dct:accrualPeriodicity": {"@id": "http://purl.org/cld/freq/daily"},
        "dcat:distribution": distributions,
    }
    if distributions:
        dataset["dct:modified"] = distributions[0]["dct:issued"]
    return {
        "@context": {
            "dcat": "http://www.w3.org/ns/dcat#",
            "dct": "http://purl.org/dc/terms/",
            "foaf": "http://xmlns.com/foaf/0.1/",
            "spdx": "http://spdx.org/rdf/terms#",
            "xsd": "http://www.w3.org/2001/XMLSchema#",
            "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
            "dct:issued": {"@type": "xsd:date"},
            "dct:modified": {"@type": "xsd:date"},
        },
        "@id": request.build_absolute_uri(reverse("dcat-catalog")),
        "@type": "dcat:Catalog",
        "dct:title": "Digital Leadership Atlas",
        "dct:description": (
            "Open data about how cities, states and regions lead in the digital era."
        ),
        "dct:publisher": publisher,
        "dct:license": {"@id": lic.url},
        "foaf:homepage": {"@id": home},
        "dcat:dataset": [dataset],
    }


class CatalogView(ConditionalResponseMixin, APIView):
    """The open-data dumps as a DCAT catalog, in JSON-LD."""

    permission_classes = [AllowAny]
    renderer_classes = [JSONLDRenderer]
    content_negotiation_class = _FirstRendererOnMismatch

    @extend_schema(
        operation_id="catalog_retrieve",
        tags=[OPEN_DATA_TAG],
        responses={(200, JSONLD_MEDIA_TYPE): OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        return Response(catalog(request))
