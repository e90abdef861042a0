"""The privacy center's forms: what a person (or the agent they authorize) asks for, who they are and where they
live. They check what a form can see (a choice made, an identifier given, the sizes); the service
(:mod:`dsar.submissions`) applies every rule again and stores nothing that fails one."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from dsar import submissions
from dsar.models import Request

#: What a person may ask for, in their words, with a line saying what it means.
REQUEST_TYPES: list[tuple[str, Any, Any]] = [
    (Request.Type.ACCESS, _("See my data"), _("What personal data is held about you, where it is stored and why.")),
    (Request.Type.RECTIFICATION, _("Correct my data"), _("Fix personal data about you that is wrong or incomplete.")),
    (Request.Type.ERASURE, _("Erase my data"), _("Delete the personal data held about you, where the law allows it.")),
    (Request.Type.PORTABILITY, _("Get a copy of my data"), _("A file of your data (JSON and CSV) to keep or take elsewhere.")),
    (Request.Type.OBJECTION, _("Stop marketing use"), _("Your data is no longer used for marketing, from now on.")),
]
TYPE_WORDS = {value: label for value, label, _help in REQUEST_TYPES}

class TypeSelect(forms.RadioSelect):
    """Radio buttons whose labels carry a line of explanation (``option.help``)."""

    def create_option(self, name: str, value: Any, label: Any, selected: Any, index: int, **kwargs: Any) -> dict:
        option = super().create_option(name, value, label, selected, index, **kwargs)
        option["help"] = next((text for kind, _label, text in REQUEST_TYPES if kind == value), "")
        return option


class Honeypot(forms.CharField):
    """A field a person never sees (hidden by the stylesheet, out of the tab order) and leaves empty; software that
    fills every field fills it."""

    def __init__(self) -> None:
        super().__init__(
            required=False,
            label=_("Leave this field empty"),
            widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
        )


class IdentityMixin(forms.Form):
    """Who the request is about: email and/or phone, name, and where they live (which says the law)."""

    name = forms.CharField(label=_("Full name"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(
        label=_("Email address"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=32,
        help_text=_("With the country code, e.g. +46 70 123 45 67."),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    residence = forms.ChoiceField(label=_("Where do you live?"), choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["residence"].choices = [("", _("Choose…")), *submissions.RESIDENCES]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("email") and not data.get("phone") and "email" not in self.errors and "phone" not in self.errors:
            self.add_error("email", _("Give an email address or a phone number, so that we can check it is you."))
        return data


class RequestForm(IdentityMixin):
    """The person's own request."""

    field_order = ["type", "details", "name", "email", "phone", "residence"]

    type = forms.ChoiceField(
        label=_("What would you like to do?"),
        choices=[(value, label) for value, label, _help in REQUEST_TYPES],
        widget=TypeSelect,
        error_messages={"required": _("Choose what you would like us to do.")},
    )
    details = forms.CharField(
        label=_("What should be corrected?"),
        required=False,
        max_length=5000,
        help_text=_("Only for a correction: say what is wrong and what it should be."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    website = Honeypot()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("type") == Request.Type.RECTIFICATION and not (data.get("details") or "").strip():
            self.add_error("details", _("Say what should be corrected."))
        return data


class AgentForm(IdentityMixin):
    """A request made for someone else by the agent they authorized (CCPA), with the signed authorization."""

    field_order = ["agent_name", "agent_email", "type", "details", "name", "email", "phone", "residence", "authorization"]

    agent_name = forms.CharField(
        label=_("Your name (the agent)"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    agent_email = forms.EmailField(
        label=_("Your email address (the agent)"), max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    type = forms.ChoiceField(
        label=_("What does the person ask for?"),
        choices=[(value, label) for value, label, _help in REQUEST_TYPES],
        widget=TypeSelect,
        error_messages={"required": _("Choose what the person asks for.")},
    )
    details = forms.CharField(
        label=_("What should be corrected?"),
        required=False,
        max_length=5000,
        help_text=_("Only for a correction: say what is wrong and what it should be."),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    authorization = forms.FileField(
        label=_("Signed authorization"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"}),
        error_messages={"required": _("Attach the authorization the person signed.")},
    )
    website = Honeypot()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = filesizeformat(settings.DSAR_AGENT_PROOF_MAX_BYTES)
        # The service checks the file (its type by its content, its size) and names this field when it refuses it.
        self.fields["authorization"].help_text = _("A PDF, PNG or JPEG file of at most %(limit)s.") % {"limit": limit}
        self.fields["name"].label = _("The person's full name")
        self.fields["email"].label = _("The person's email address")
        self.fields["phone"].label = _("The person's phone number")
        self.fields["residence"].label = _("Where does the person live?")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("type") == Request.Type.RECTIFICATION and not (data.get("details") or "").strip():
            self.add_error("details", _("Say what should be corrected."))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("The 6-digit code"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "size": 8}),
        error_messages={"required": _("Type the 6-digit code from the message we sent you.")},
    )


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
