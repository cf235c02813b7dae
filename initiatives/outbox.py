"""
Emails the Atlas owes, kept in the database until a worker has sent them.

A service that must tell someone something calls ``outbox_email`` inside its
transaction. The row commits with the change that caused it, or not at all; once
committed it is handed to a worker. When the broker cannot be reached (Redis
down), the request still succeeds: the row waits, and the periodic sweep hands
it over once Redis is back. Nothing is lost, and the user sees no error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urljoin

from django.conf import settings
from django.db import transaction

from initiatives.models import OutgoingEmail

logger = logging.getLogger(__name__)


def site_url(path: str) -> str:
    """An absolute address on this site, for emails read far from any request."""
    return urljoin(settings.ATLAS_SITE_URL, path)


def outbox_email(
    *,
    kind: str,
    to: str,
    subject: str,
    body: str,
    html: str = "",
    headers: Mapping[str, str] | None = None,
) -> OutgoingEmail:
    """Owe ``to`` an email; it is handed to a worker once the current transaction commits."""
    email = OutgoingEmail.objects.create(
        kind=kind,
        to=to,
        # Header injection: a subject is one line.
        subject=" ".join(subject.split())[:255],
        body=body,
        html=html,
        headers=dict(headers or {}),
    )
    transaction.on_commit(lambda: dispatch_outgoing(email.pk))
    return email


def dispatch_outgoing(pk: int) -> bool:
    """
    Hand one owed email to a worker; False when the broker is unreachable.

    Never raises for a broker failure: the row stays pending and the sweep
    (``initiatives.tasks.sweep_outbox``) sends it later.
    """
    from initiatives.tasks import send_outgoing_email

    try:
        send_outgoing_email.apply_async((pk,), retry=False)
    # kombu raises several kinds of error for an unreachable broker; all mean "later".
    except Exception as error:
        logger.warning("Email %s waits for the broker: %s", pk, error)
        return False
    return True
