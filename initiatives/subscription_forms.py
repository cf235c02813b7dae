"""Forms for following things by email and for managing the subscriptions that result."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from council.contribution_forms import HoneypotMixin
from initiatives import subscriptions
from initiatives.models import Frequency, Subscription


class TargetsField(forms.Field):
    """
    The things to follow, as hidden fields written like ``initiative:<slug>``.

    Cleans to a list of ``subscriptions.TargetSpec``; a ref that names nothing
    (altered by hand, or a record since removed) is an error, not a silent drop.
    """

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": _("Choose something to follow.")}

    def to_python(self, value: Any) -> list[str]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        return [str(item).strip() for item in value if str(item).strip()][:50]

    def clean(self, value: Any) -> list[subscriptions.TargetSpec]:
        refs = self.to_python(value)
        self.validate(refs)
        return subscriptions.targets_from_refs(refs)

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [
                item.ref if isinstance(item, subscriptions.TargetSpec) else item for item in value
            ]
        return value


class _SettingsFields(forms.Form):
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=Frequency.choices,
        initial=Frequency.WEEKLY,
        help_text=_("One email gathers everything you follow; none is sent when nothing changed."),
    )
    language = forms.ChoiceField(label=_("Language of the emails"), choices=settings.LANGUAGES)


class SubscribeForm(_SettingsFields, HoneypotMixin):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("We email you a link to confirm. The address is never published."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    target = TargetsField()

    field_order = ["email", "frequency", "language", "target", "website"]


class SubscriptionSettingsForm(_SettingsFields):
    """Frequency and language of one subscription, on the manage pages."""

    def __init__(self, *args: Any, subscription: Subscription | None = None, **kwargs: Any) -> None:
        # A prefix per subscription keeps ids unique on a page that lists several.
        if subscription is not None:
            kwargs.setdefault("prefix", f"s{subscription.pk}")
            kwargs.setdefault(
                "initial",
                {"frequency": subscription.frequency, "language": subscription.language},
            )
        super().__init__(*args, **kwargs)
        self.fields["frequency"].help_text = ""
