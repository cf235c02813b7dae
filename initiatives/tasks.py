"""
Background work for initiatives: the nightly open-data dump, digests and owed emails.

Tasks stay thin: they take ids and call ``initiatives.delivery``, whose ledgers
make a task that runs twice (retried, or enqueued by a second run) send nothing
twice. A digest chunk redelivered after its worker died mid-chunk is the one
exception: the digests of that chunk the SMTP server had already accepted go out
again, since a chunk's ledger rows are settled together once it is sent.
"""

from celery import shared_task

from initiatives import delivery
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


@shared_task(acks_late=True)
def send_outgoing_email(pk: int) -> str:
    """Send one email from the outbox; its ledger row makes a second delivery a no-op."""
    return delivery.deliver_outgoing(pk)


@shared_task(acks_late=True)
def sweep_outbox() -> int:
    """Hand over what waited for the broker (every minute, from beat)."""
    return delivery.sweep_outbox()


@shared_task(acks_late=True)
def send_digests(frequency: str, period_key: str | None = None) -> dict[str, int]:
    """Start a digest run (from beat): one chunk task per ATLAS_DIGEST_CHUNK_SIZE subscriptions."""
    summary = delivery.digest_run(frequency=frequency, period_key=period_key)
    return {"recipients": summary.recipients, "chunks": summary.chunks}


@shared_task(acks_late=True)
def send_digest_chunk(
    ids: list[int], frequency: str, period_key: str, run: str | None = None
) -> dict[str, int]:
    """Send one chunk of a run's digests; ``run`` lets a worker read the changes once per run."""
    return delivery.deliver_digests(
        subscription_ids=ids, period_key=period_key, frequency=frequency, run=run
    ).counts


@shared_task(acks_late=True)
def send_digest(subscription_id: int, period_key: str) -> str:
    """Try one subscription's digest again, after a temporary failure or a lost task."""
    return delivery.deliver_digest(subscription_id=subscription_id, period_key=period_key)
