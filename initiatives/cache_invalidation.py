"""
Invalidation of the page cache (config.page_cache): every committed change to public data
bumps the content generation, so no page rendered before the commit is served after it.

The signals cover every write that goes through a model's ``save`` or ``delete`` and every
change to a many-to-many relation: the workspace and its publishing, the API, the admin,
restores from history and the row-by-row paths of the CSV import. Writes that skip signals
(``bulk_create``, ``QuerySet.update``, a database restore) call ``bump_generation`` themselves.

A bump that cannot reach Redis is not lost. Each public write also leaves a history row
(django-simple-history), and the sweep, which beat runs every minute, bumps the generation
whenever the newest history row is more recent than what its last bump covered. Until Redis
answers again no page is served from it at all, and an entry never outlives
ATLAS_PAGE_CACHE_SECONDS in any case.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Max
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from config.page_cache import bump_generation, page_cache

logger = logging.getLogger(__name__)

# Everything a public page or the public API shows.
PUBLIC_MODELS = (
    "cities.Jurisdiction",
    "initiatives.FocusArea",
    "initiatives.Sector",
    "initiatives.Plan",
    "initiatives.Initiative",
    "initiatives.Partnership",
    "initiatives.Milestone",
    "initiatives.Indicator",
    "initiatives.Measurement",
    "initiatives.Source",
    "initiatives.InitiativeLink",
    "council.Organization",
    "council.Coalition",
    "council.CoalitionMembership",
    "council.CouncilMembership",
    # Approved comments show on initiative pages.
    "council.Contribution",
)

# What the sweep's last bump covered: history rows up to this moment.
COVERED_KEY = "page-cache:covered-until"
# A transaction that saved a row this long before it committed is still covered by the next
# sweep: its history row is dated when it was saved, not when it committed.
SETTLE = datetime.timedelta(minutes=1)


def public_models() -> list[type[models.Model]]:
    return [apps.get_model(label) for label in PUBLIC_MODELS]


def public_data_changed(*, using: str = "default", **_: Any) -> None:
    """Bump the generation once the change commits; nothing happens if it rolls back."""
    # One INCR per row written: cheaper than telling, reliably, whether this transaction
    # already asked for one.
    transaction.on_commit(bump_generation, using=using)


def _on_m2m_changed(*, action: str, using: str = "default", **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        public_data_changed(using=using)


def connect() -> None:
    """Wire the signals; called from InitiativesConfig.ready()."""
    for model in public_models():
        uid = f"page-cache:{model._meta.label_lower}"
        post_save.connect(public_data_changed, sender=model, dispatch_uid=f"{uid}:save")
        post_delete.connect(public_data_changed, sender=model, dispatch_uid=f"{uid}:delete")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(_on_m2m_changed, sender=through, dispatch_uid=f"{uid}:{field.name}")


def newest_public_change() -> datetime.datetime | None:
    """When the most recent write to public data was saved, from the history tables."""
    newest: datetime.datetime | None = None
    for model in public_models():
        history = getattr(model, "history", None)
        if history is None:
            continue
        value = history.aggregate(newest=Max("history_date"))["newest"]
        if value is not None and (newest is None or value > newest):
            newest = value
    return newest


def sweep() -> bool:
    """
    Bump the generation if public data changed after what the last sweep covered.

    This catches bumps that failed because Redis was unreachable when their change committed.
    True when it bumped.
    """
    newest = newest_public_change()
    if newest is None:
        return False
    started = timezone.now()
    store = page_cache()
    try:
        covered = store.get(COVERED_KEY)
    except Exception as exc:  # Redis still down: the next sweep tries again.
        logger.warning("page cache sweep skipped: %s", exc)
        return False
    if isinstance(covered, datetime.datetime) and newest <= covered:
        return False
    if not bump_generation():
        return False
    try:
        store.set(COVERED_KEY, started - SETTLE, timeout=None)
    except Exception as exc:  # Harmless: the next sweep bumps once more.
        logger.warning("page cache sweep could not record its progress: %s", exc)
    return True
