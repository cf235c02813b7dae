"""Background work for initiatives: the nightly open-data dump."""

from celery import shared_task

from initiatives.dumps import dump_write


# acks_late: a worker lost mid-dump hands the task back instead of dropping the
# night's dump. A rerun is harmless, since a dump replaces that day's file.
@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=60,
    retry_jitter=True,
    max_retries=3,
)
def write_open_data_dump() -> str:
    """Write today's open-data dump; retries when the disk fails for a moment."""
    return str(dump_write().path)
