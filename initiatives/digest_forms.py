"""The staff digest preview's form: whose digests to show."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from initiatives.digests import subscriptions_of
from initiatives.models import Subscription


class DigestPreviewForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address of the subscriber"),
        max_length=254,
        help_text=_("The address the digests go to, such as reader@example.org."),
    )

    def clean_email(self) -> str:
        email: str = self.cleaned_data["email"]
        self.subscriptions: list[Subscription] = subscriptions_of(email)
        if not self.subscriptions:
            raise forms.ValidationError(
                _("No subscription uses this address."), code="no_subscription"
            )
        return email
