"""
A trigram index on organization names for search's typo tolerance.

PostgreSQL only, as in cities 0002 (which enables pg_trgm); the index is not
part of the model's state, so the same migrations run on SQLite.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models.functions import Upper

NAME_INDEX = GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="organization_name_trgm")


def add_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("council", "Organization"), NAME_INDEX)


def remove_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("council", "Organization"), NAME_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("cities", "0002_jurisdiction_name_trigram_index"),
        ("council", "0002_apikey"),
    ]

    operations = [
        migrations.RunPython(add_index, remove_index),
    ]
