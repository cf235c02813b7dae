"""Forms of the council workspace: returning a record to its editors, and API keys."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from council.models import ApiKey, ReminderPreference

# A key lasting longer than this is better made again: a leaked one stays usable that long.
MAX_KEY_DAYS = 3650


class ReturnForm(forms.Form):
    """The reviewer's note saying what must change before the record can be published."""

    note = forms.CharField(
        label=_("What needs to change"),
        help_text=_("The editors see this note on their workspace."),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": _("Say what needs to change.")},
    )


class ApiKeyForm(forms.Form):
    """
    A new API key. The read-only choice is offered only to users who may hold a write
    key; for everyone else the key is read-only without asking.
    """

    name = forms.CharField(
        label=_("Name"),
        help_text=_("What the key is for, so you recognise it later."),
        max_length=ApiKey._meta.get_field("name").max_length,
        required=False,
    )
    read_only = forms.BooleanField(
        label=_("Read-only"),
        help_text=_("A read-only key cannot change anything. Untick only if a program must write."),
        required=False,
        initial=True,
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in (days)"),
        help_text=_("Leave empty for a key that does not expire."),
        min_value=1,
        max_value=MAX_KEY_DAYS,
        required=False,
    )

    def __init__(self, *args: Any, may_write: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_write:
            del self.fields["read_only"]

    @property
    def wants_read_only(self) -> bool:
        return "read_only" not in self.fields or bool(self.cleaned_data.get("read_only"))


class ReminderPreferenceForm(forms.ModelForm):
    """How often a council member hears about what needs their attention, and in which language."""

    class Meta:
        model = ReminderPreference
        fields = ["frequency", "language"]
        widgets = {"frequency": forms.RadioSelect, "language": forms.RadioSelect}
        help_texts = {
            "frequency": _(
                "Your stale records, milestones due soon or overdue, and what waits for "
                "your review."
            ),
        }
