"""
A stored search document for initiatives, and the GIN index on it.

Migration 0003 indexed an expression, six to_tsvector calls over the title,
summary and description. Matching used the index, but ranking parsed the text
of every matching row again: seconds for a common word. The document is now a
stored generated column (``Initiative.search_document``), which PostgreSQL
keeps on every insert and update, COPY included; matching and ranking read it.

The GIN index keeps the name ``initiative_search``, so that what looks for the
search index by name still finds it. The old expression index is dropped
before the column is added: adding a stored column rewrites the table and
rebuilds every index on it, and rebuilding that one would parse all the text a
second time for nothing.

As in 0003, the index is PostgreSQL's only and not part of the model's state.
On SQLite the column holds NULL (see ``initiatives.models.SearchDocument``).
"""

import django.contrib.postgres.search
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models.expressions import Combinable

import initiatives.models

# GIN builds are much faster with room to sort in; SET LOCAL ends with the migration.
BUILD_MEMORY = "SET LOCAL maintenance_work_mem = '256MB'"


def expression_document() -> Combinable:
    """The expression 0003 indexed, to drop and, going back, recreate its index."""
    parts = [
        SearchVector(name, weight=weight, config=config)
        for config in ("english", "french")
        for name, weight in (("title", "A"), ("summary", "B"), ("description", "C"))
    ]
    combined: Combinable = parts[0]
    for part in parts[1:]:
        combined = combined + part
    return combined


EXPRESSION_INDEX = GinIndex(expression_document(), name="initiative_search")
COLUMN_INDEX = GinIndex(fields=["search_document"], name="initiative_search")


def drop_expression_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("initiatives", "Initiative")
        schema_editor.remove_index(model, EXPRESSION_INDEX)


def add_expression_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BUILD_MEMORY)
        model = apps.get_model("initiatives", "Initiative")
        schema_editor.add_index(model, EXPRESSION_INDEX)


def add_column_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BUILD_MEMORY)
        model = apps.get_model("initiatives", "Initiative")
        schema_editor.add_index(model, COLUMN_INDEX)


def analyze(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The rewritten table has no statistics on the new column until autovacuum gets to
    # it: meanwhile the planner took "broadband" (a third of a million rows) for a rare
    # word, and ranked its matches in 1.3 s instead of 0.1 s.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE initiatives_initiative")


def drop_column_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        model = apps.get_model("initiatives", "Initiative")
        schema_editor.remove_index(model, COLUMN_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0006_initiative_list_order_index"),
    ]

    operations = [
        migrations.RunPython(drop_expression_index, add_expression_index),
        migrations.AddField(
            model_name="initiative",
            name="search_document",
            field=models.GeneratedField(
                db_persist=True,
                expression=initiatives.models.SearchDocument(),
                output_field=django.contrib.postgres.search.SearchVectorField(),
                verbose_name="search document",
            ),
        ),
        migrations.RunPython(add_column_index, drop_column_index),
        migrations.RunPython(analyze, migrations.RunPython.noop),
    ]
