from django.db import migrations


def seed(apps, schema_editor):
    from initiatives.taxonomy import FOCUS_AREAS, SECTORS

    for model_name, rows in (("FocusArea", FOCUS_AREAS), ("Sector", SECTORS)):
        model = apps.get_model("initiatives", model_name)
        for position, (slug, name_en, name_fr, desc_en, desc_fr) in enumerate(rows):
            model.objects.update_or_create(
                slug=slug,
                defaults={
                    "name_en": name_en,
                    "name_fr": name_fr,
                    "description_en": desc_en,
                    "description_fr": desc_fr,
                    "position": position,
                },
            )


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
