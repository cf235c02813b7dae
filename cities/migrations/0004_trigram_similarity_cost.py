"""
Make pg_trgm's similarity operator look as costly as it is, so names are matched by index.

Search matches jurisdiction and organization names with ``UPPER(name) % text`` (and
LIKE), which the trigram GIN indexes serve. pg_trgm declares the operator's function at
the default cost of one operator, the cost of an integer comparison, so the planner chose
to compute it on every one of 52,000 jurisdictions (75 ms) over the index (19 ms). At
cost 100 the index wins. PostgreSQL only; where the database user does not own the
extension's function, the migration says so and changes nothing.
"""

from collections.abc import Callable

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

SET_COST = """
DO $$
BEGIN
    ALTER FUNCTION similarity_op(text, text) COST {cost};
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'similarity_op(text, text) keeps its cost: %', SQLERRM;
END
$$;
"""


def _set_cost(cost: int) -> Callable[[StateApps, BaseDatabaseSchemaEditor], None]:
    def run(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(SET_COST.format(cost=cost), params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("cities", "0003_coverage_summary"),
    ]

    operations = [
        migrations.RunPython(_set_cost(100), _set_cost(1)),
    ]
