"""
A trigram index on jurisdiction names for search's typo tolerance ("Chicgo").

PostgreSQL only: pg_trgm and GIN do not exist elsewhere, where search matches
names by substring instead. The index is not part of the model's state, so the
same migrations run on SQLite.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models.functions import Upper

# UPPER(name), as initiatives.search matches it, serves both LIKE and trigram similarity.
NAME_INDEX = GinIndex(OpClass(Upper("name"), name="gin_trgm_ops"), name="jurisdiction_name_trgm")


def add_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("cities", "Jurisdiction"), NAME_INDEX)


def remove_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("cities", "Jurisdiction"), NAME_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("cities", "0001_initial"),
    ]

    operations = [
        # Does nothing on other databases.
        TrigramExtension(),
        migrations.RunPython(add_index, remove_index),
    ]
