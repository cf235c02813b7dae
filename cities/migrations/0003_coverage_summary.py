"""
The public coverage summary, filled from the catalogue as it stands.

The fill calls the same rebuild as ``manage.py rebuild_coverage``, with today's
models: it reads only fields that exist as of this migration.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps


def fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    from cities.coverage import coverage_rebuild

    coverage_rebuild(using=schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ('cities', '0002_jurisdiction_name_trigram_index'),
        ('initiatives', '0006_initiative_list_order_index'),
        ('council', '0005_subscriptions'),
    ]

    operations = [
        migrations.CreateModel(
            name='AtlasTotal',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(choices=[('organizations', 'Organizations')], max_length=32, unique=True, verbose_name='name')),
                ('value', models.PositiveBigIntegerField(default=0, verbose_name='value')),
            ],
            options={
                'verbose_name': 'atlas total',
                'verbose_name_plural': 'atlas totals',
            },
        ),
        migrations.CreateModel(
            name='Coverage',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('own', models.PositiveIntegerField(default=0, verbose_name='own initiatives')),
                ('subtree', models.PositiveIntegerField(default=0, verbose_name='initiatives within')),
            ],
            options={
                'verbose_name': 'coverage',
                'verbose_name_plural': 'coverage',
            },
        ),
        migrations.CreateModel(
            name='CoverageSpread',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(choices=[('own', 'Own initiatives'), ('subtree', 'Initiatives within')], max_length=8, verbose_name='scope')),
                ('kind', models.CharField(choices=[('country', 'Country'), ('state', 'State or province'), ('region', 'Region'), ('metro', 'Metro area'), ('county', 'County or department'), ('place', 'City or place'), ('district', 'District')], max_length=16, verbose_name='kind')),
                ('initiatives', models.PositiveIntegerField(verbose_name='initiatives')),
                ('jurisdictions', models.PositiveIntegerField(verbose_name='jurisdictions')),
            ],
            options={
                'verbose_name': 'coverage spread',
                'verbose_name_plural': 'coverage spreads',
            },
        ),
        migrations.AddIndex(
            model_name='jurisdiction',
            index=models.Index(fields=['kind', 'name'], name='jurisdiction_kind_name'),
        ),
        migrations.AddField(
            model_name='coverage',
            name='focus_area',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='initiatives.focusarea', verbose_name='focus area'),
        ),
        migrations.AddField(
            model_name='coverage',
            name='jurisdiction',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='coverage', to='cities.jurisdiction', verbose_name='jurisdiction'),
        ),
        migrations.AddField(
            model_name='coveragespread',
            name='focus_area',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='initiatives.focusarea', verbose_name='focus area'),
        ),
        migrations.AddConstraint(
            model_name='coverage',
            constraint=models.UniqueConstraint(condition=models.Q(('focus_area__isnull', False)), fields=('jurisdiction', 'focus_area'), name='coverage_unique_area'),
        ),
        migrations.AddConstraint(
            model_name='coverage',
            constraint=models.UniqueConstraint(condition=models.Q(('focus_area__isnull', True)), fields=('jurisdiction',), name='coverage_unique_total'),
        ),
        migrations.AddConstraint(
            model_name='coveragespread',
            constraint=models.UniqueConstraint(condition=models.Q(('focus_area__isnull', False)), fields=('scope', 'kind', 'focus_area', 'initiatives'), name='coverage_spread_unique_area'),
        ),
        migrations.AddConstraint(
            model_name='coveragespread',
            constraint=models.UniqueConstraint(condition=models.Q(('focus_area__isnull', True)), fields=('scope', 'kind', 'initiatives'), name='coverage_spread_unique_total'),
        ),
        migrations.AddConstraint(
            model_name='coveragespread',
            constraint=models.CheckConstraint(condition=models.Q(('initiatives__gt', 0), ('jurisdictions__gt', 0)), name='coverage_spread_positive'),
        ),
        migrations.AddIndex(
            model_name="coverage",
            index=models.Index(
                models.OrderBy(models.F("own"), descending=True),
                condition=models.Q(("focus_area__isnull", True), ("own__gt", 0)),
                name="coverage_busiest",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
