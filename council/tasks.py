"""Background work for the council: reminders. Tasks stay thin; see initiatives.delivery."""

from celery import shared_task

from initiatives import delivery


@shared_task(acks_late=True)
def send_reminders() -> dict[str, int]:
    """Start a reminder run (daily, from beat); each member's preference decides."""
    summary = delivery.reminder_run()
    return {"recipients": summary.recipients, "chunks": summary.chunks}


@shared_task(acks_late=True)
def send_reminder_chunk(pairs: list[list[int | str]]) -> dict[str, int]:
    """Send one chunk of a run's reminders: [user id, period key] pairs."""
    return delivery.deliver_reminders(
        pairs=[(int(user_id), str(period)) for user_id, period in pairs]
    ).counts


@shared_task(acks_late=True)
def send_reminder(user_id: int, period_key: str) -> str:
    """Try one member's reminder again, after a temporary failure or a lost task."""
    tally = delivery.deliver_reminders(pairs=[(user_id, period_key)])
    return next(iter(tally.counts), delivery.SKIPPED)
