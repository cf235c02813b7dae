"""
An index in the API's default order of initiatives: newest change first, ties by id.

Every list under /api/v1/initiatives/ without ?ordering= reads in this order,
and its cursors seek into it, so the first page and the thousandth each read
a page's worth of index. The single-column index on ``updated_at`` leaves ties
to a sort and cannot seek on (updated_at, id).

Like the search indexes, it is not part of the model's state: the model keeps
its own ``updated_at`` index, and this one only serves the keyset pagination.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

LIST_ORDER_INDEX = models.Index(fields=["updated_at", "id"], name="initiative_updated_id")


def add_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.add_index(apps.get_model("initiatives", "Initiative"), LIST_ORDER_INDEX)


def remove_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    schema_editor.remove_index(apps.get_model("initiatives", "Initiative"), LIST_ORDER_INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("initiatives", "0005_subscriptions"),
    ]

    operations = [
        migrations.RunPython(add_index, remove_index),
    ]
