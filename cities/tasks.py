"""The coverage summary's nightly rebuild (beat); see cities.coverage."""

from celery import shared_task

from cities.coverage import coverage_rebuild


@shared_task
def rebuild_coverage() -> int:
    """
    Recompute the whole summary from the catalogue.

    Writes keep it exact as they commit; this catches what none of them could: a refresh
    that failed after its write had committed, or a bulk write that forgot to call it.
    """
    return coverage_rebuild().coverage_rows
