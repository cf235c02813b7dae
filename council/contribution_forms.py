"""Forms for the public's suggestions and comments, and for their moderation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from council.models import Contribution

HONEYPOT_FIELD = "website"


class HoneypotMixin(forms.Form):
    """
    A field people never see and automated senders fill in.

    It is hidden by CSS (not ``type=hidden``, which bots skip), kept out of the
    keyboard order and from assistive technology, and labelled for anyone who
    meets it anyway.
    """

    website = forms.CharField(
        label=_("Leave this field blank"),
        required=False,
        widget=forms.TextInput(
            attrs={"tabindex": "-1", "autocomplete": "off", "aria-hidden": "true"}
        ),
    )

    def is_bot(self) -> bool:
        """Whether the hidden field came back filled, read before any other validation."""
        return bool(str(self.data.get(self.add_prefix(HONEYPOT_FIELD), "")).strip())


class _ContributorFields(forms.Form):
    name = forms.CharField(
        label=_("Your name"),
        max_length=100,
        help_text=_("Shown with your contribution if it is published."),
    )
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        help_text=_("To confirm your contribution. It is never published."),
    )


class SuggestionForm(_ContributorFields, HoneypotMixin):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Description"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("What the initiative is and why it matters. Markdown is allowed."),
    )
    url = forms.URLField(
        label=_("Link (optional)"),
        required=False,
        max_length=200,
        assume_scheme="https",
        help_text=_("A page where the initiative is described."),
    )

    field_order = ["title", "body", "url", "name", "email", HONEYPOT_FIELD]


class CommentForm(_ContributorFields, HoneypotMixin):
    body = forms.CharField(
        label=_("Comment"),
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown is allowed."),
    )

    field_order = ["body", "name", "email", HONEYPOT_FIELD]


class ModerationForm(forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Kept with the decision; the contributor does not see it."),
    )

    def __init__(self, *args: Any, contribution: Contribution | None = None, **kwargs: Any):
        # A prefix per contribution keeps the ids unique on a queue of many forms.
        if contribution is not None:
            kwargs.setdefault("prefix", f"c{contribution.pk}")
        super().__init__(*args, **kwargs)
