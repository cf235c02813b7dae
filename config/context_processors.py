"""Settings that templates read on every page."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def map_tiles(request: HttpRequest) -> dict[str, Any]:
    """
    The tile server maps draw under their markers, if one is set.

    Empty by default: pages load nothing from elsewhere, and maps show markers
    and boundaries on a plain background.
    """
    return {
        "map_tiles_url": settings.ATLAS_MAP_TILES_URL,
        "map_tiles_attribution": settings.ATLAS_MAP_TILES_ATTRIBUTION,
    }
