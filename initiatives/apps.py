from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InitiativesConfig(AppConfig):
    name = "initiatives"
    verbose_name = _("Initiatives")

    def ready(self) -> None:
        # Celery's autodiscovery finds tasks.py only; the sweep's module registers itself here.
        from initiatives import cache_invalidation, cache_tasks  # noqa: F401

        cache_invalidation.connect()
