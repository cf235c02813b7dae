"""The page cache's periodic sweep (beat, every minute); see initiatives.cache_invalidation."""

from celery import shared_task

from initiatives import cache_invalidation


@shared_task
def sweep_page_cache() -> bool:
    """Bump the page-cache generation for changes whose own bump could not reach Redis."""
    return cache_invalidation.sweep()
