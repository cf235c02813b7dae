"""Forms for the second factor; the password forms are Django's own."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice


class OneTimeCodeForm(forms.Form):
    """
    Checks a code from an authenticator app against the given devices.

    ``device`` is the one that accepted the code. Each device counts its own failures
    and makes the next try wait longer (django-otp's throttling), so guessing the six
    digits is no quicker than guessing the password.
    """

    token = forms.CharField(
        label=_("Code from your authenticator app"),
        help_text=_("The six digits the app shows now; spaces are ignored."),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "spellcheck": "false",
            }
        ),
    )

    def __init__(self, *args: Any, devices: list[TOTPDevice], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.devices = devices
        self.device: TOTPDevice | None = None

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        if not token.isdigit():
            raise forms.ValidationError(_("Enter the digits only."), code="not_digits")
        throttled = False
        for device in self.devices:
            # Locks the device row, so two requests cannot both spend the same code.
            with transaction.atomic():
                locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
                allowed, _details = locked.verify_is_allowed()
                if not allowed:
                    throttled = True
                    continue
                if locked.verify_token(token):
                    self.device = locked
                    return token
        if throttled:
            raise forms.ValidationError(
                _("Too many wrong codes in a row. Wait a moment, then enter the newest code."),
                code="throttled",
            )
        raise forms.ValidationError(
            _("That code is wrong or has expired. Enter the code the app shows now."),
            code="invalid_token",
        )
