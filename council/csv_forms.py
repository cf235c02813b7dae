"""
Forms for importing initiatives from CSV, and where an upload waits for confirmation.

Between the preview and the confirmation the file stays on the server, in a
private temporary directory under a random name. The page carries only a signed
token naming that file, bound to the user and the jurisdiction, so a changed or
borrowed token confirms nothing.
"""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from cities.models import Jurisdiction
from council.permissions import AnyUser

SIGNING_SALT = "council.csv-import"
# How long a previewed upload may wait for its confirmation.
STAGED_MAX_AGE = 60 * 60
_STAGED_NAME = re.compile(r"[0-9a-f]{32}\.csv")


def staging_storage() -> FileSystemStorage:
    """Uploads awaiting confirmation: outside MEDIA_ROOT, readable by this process only."""
    return FileSystemStorage(
        location=Path(tempfile.gettempdir()) / "atlas-csv-imports",
        file_permissions_mode=0o600,
        directory_permissions_mode=0o700,
    )


def _prune(storage: FileSystemStorage) -> None:
    """Forget uploads nobody confirmed in time."""
    try:
        _dirs, names = storage.listdir("")
    except FileNotFoundError:
        return
    cutoff = time.time() - STAGED_MAX_AGE
    for name in names:
        path = Path(storage.path(name))
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue  # Another worker pruned it first.


def stage_upload(*, file: File[Any], user: AnyUser, jurisdiction: Jurisdiction) -> str:
    """Keep ``file`` for the confirmation; return the token that names it."""
    storage = staging_storage()
    _prune(storage)
    name = storage.save(f"{secrets.token_hex(16)}.csv", file)
    return signing.dumps(
        {"file": name, "user": user.pk, "jurisdiction": jurisdiction.pk}, salt=SIGNING_SALT
    )


def discard_upload(name: str) -> None:
    staging_storage().delete(name)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_("UTF-8 text with a header row. Nothing is saved until you confirm."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        limit = settings.ATLAS_IMPORT_MAX_BYTES
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest file accepted is %(limit)s."),
                code="too_large",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        return upload


class ImportConfirmForm(forms.Form):
    """The token from the preview; valid only for the same user and jurisdiction, and fresh."""

    token = forms.CharField(widget=forms.HiddenInput, max_length=1000)

    def __init__(
        self, *args: Any, user: AnyUser, jurisdiction: Jurisdiction, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.jurisdiction = jurisdiction

    @staticmethod
    def refusal() -> forms.ValidationError:
        return forms.ValidationError(
            _("This upload cannot be confirmed any more. Upload the file again."),
            code="bad_token",
        )

    def clean_token(self) -> str:
        """The staged file's name, once the token proves it is this user's upload here."""
        refused = self.refusal()
        try:
            payload = signing.loads(
                self.cleaned_data["token"], salt=SIGNING_SALT, max_age=STAGED_MAX_AGE
            )
        except signing.BadSignature:
            raise refused from None
        if not isinstance(payload, dict):
            raise refused
        name = payload.get("file")
        if (
            payload.get("user") != self.user.pk
            or payload.get("jurisdiction") != self.jurisdiction.pk
            or not isinstance(name, str)
            or not _STAGED_NAME.fullmatch(name)
            or not staging_storage().exists(name)
        ):
            raise refused
        return name
