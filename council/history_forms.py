"""The restore button's form and the audit log's filters."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from council.history import audit_kind_choices


class RestoreForm(forms.Form):
    """Names the version to put back by the moment it ended, as the timeline shows it."""

    version = forms.CharField(max_length=64)

    def __init__(self, *args: Any, versions: Sequence[datetime.datetime], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Newest first: the first is the record as it stands.
        self.versions = list(versions)

    def clean_version(self) -> datetime.datetime:
        raw = self.cleaned_data["version"]
        try:
            when = datetime.datetime.fromisoformat(raw)
        except ValueError:
            raise forms.ValidationError(
                _("This is not a version of this record."), code="invalid"
            ) from None
        if when.tzinfo is None or when not in self.versions:
            raise forms.ValidationError(_("This is not a version of this record."), code="unknown")
        if when == self.versions[0]:
            raise forms.ValidationError(_("This is the current version already."), code="current")
        return when


class AuditLogFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Changed by"),
        required=False,
        max_length=150,
        help_text=_("A username, such as chicago-editor."),
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("For example 2026-01-31."),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Included."),
    )
    kind = forms.ChoiceField(label=_("Kind of record"), required=False)
    # The moment of the last change the previous page showed: the next page lists
    # older ones. A cursor, not a page number, so page 900 costs what page 1 does.
    before = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All kinds")), *audit_kind_choices()]  # type: ignore[attr-defined]

    def clean_before(self) -> datetime.datetime | None:
        raw = self.cleaned_data.get("before") or ""
        if not raw:
            return None
        try:
            when = datetime.datetime.fromisoformat(raw)
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            # The field is hidden: the error is told without a link to it.
            self.add_error(
                None,
                forms.ValidationError(
                    _("This link to older changes is broken. Start again from the newest."),
                    code="bad_cursor",
                ),
            )
            return None
        return when

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error(
                "until",
                forms.ValidationError(
                    _("The end date cannot come before the start date."), code="order"
                ),
            )
        return cleaned
