"""Forms a chair uses on their council, and the one an invited person signs up with."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.models import User
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from council.models import CouncilMembership


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=CouncilMembership.Role.choices,
        initial=CouncilMembership.Role.EDITOR,
        help_text=_(
            "Editors draft records, reviewers publish them, chairs also manage the council."
        ),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=CouncilMembership.Role.choices)

    def __init__(self, *args: Any, membership: CouncilMembership | None = None, **kwargs: Any):
        # A prefix per member keeps the ids unique on a list of many forms.
        if membership is not None:
            kwargs.setdefault("prefix", f"m{membership.pk}")
            kwargs.setdefault("initial", {"role": membership.role})
        super().__init__(*args, **kwargs)


class AccountForm(forms.Form):
    """A new account for someone invited: the password goes through Django's validators."""

    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("Letters, digits and @ . + - _ only. You sign in with it."),
    )
    email = forms.EmailField(label=_("Email address"), max_length=254)
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        # Lazy, so the validators are read when the form is shown, not at import.
        help_text=lazy(password_validation.password_validators_help_text_html, str)(),
    )
    password2 = forms.CharField(
        label=_("Confirm password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        username: str = self.cleaned_data["username"]
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(
                _("This username is taken. Choose another, or sign in if it is yours."),
                code="username_taken",
            )
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error(
                "password2",
                forms.ValidationError(_("The two passwords differ."), code="password_mismatch"),
            )
        elif first:
            candidate = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(first, user=candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned
