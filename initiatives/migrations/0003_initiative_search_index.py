"""
The GIN index behind initiative search on PostgreSQL.

It holds initiatives.search.initiative_document(): title (A), summary (B) and
description (C), through the English and then the French configuration. The
planner uses the index only when the query repeats this expression exactly, so
the two must change together (tests/site/test_search_pg.py checks the plan).

PostgreSQL only; the index is not part of the model's state, so the same
migrations run on SQLite, where search falls back to substring matches.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models.expressions import Combinable


def document() -> Combinable:
    parts = [
        SearchVector(name, weight=weight, config=config)
        for config in ("english", "french")
        for name, weight in (("title", "A"), ("summary", "B"), ("description", "C"))
    ]
    combined: Combinable = parts[0]
    for part in parts[1:]:
        combined = combined + part
    return combined


SEARCH_INDEX = GinIndex(document(), name="initiative_search")


def add_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("initiatives", "Initiative"), SEARCH_INDEX)


def remove_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("initiatives", "Initiative"), SEARCH_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0002_seed_taxonomies"),
    ]

    operations = [
        migrations.RunPython(add_index, remove_index),
    ]
