from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models import Case, CaseEvent, SafetyCheck, SafetyResponse
from cases.selectors import CheckArea


class HelpForm(forms.Form):
    """The short form behind "I need help"."""

    help_kind = forms.ChoiceField(
        label=_("What help do you need?"), choices=SafetyResponse.HelpKind.choices
    )
    people_with_them = forms.IntegerField(
        label=_("How many people are with you (you included)?"),
        min_value=1,
        max_value=500,
        initial=1,
    )
    location = forms.CharField(label=_("Where are you?"), max_length=300, required=False)
    details = forms.CharField(
        label=_("Anything else we should know"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class SafetyCheckForm(forms.Form):
    country = forms.ChoiceField(label=_("Country"))
    regions = forms.MultipleChoiceField(
        label=_("Regions"),
        help_text=_("Choose one or more regions of that country (Ctrl or ⌘ to add one)."),
        widget=forms.SelectMultiple(attrs={"size": 10}),
    )
    question_en = forms.CharField(label=_("Question (English)"), max_length=300)
    question_fr = forms.CharField(label=_("Question (French)"), max_length=300, required=False)
    deadline = forms.DateTimeField(
        label=_("Deadline"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    send_email = forms.BooleanField(label=_("By email"), required=False, initial=True)
    send_sms = forms.BooleanField(label=_("By text message"), required=False, initial=True)
    reminder_minutes = forms.IntegerField(
        label=_("Remind after (minutes)"), min_value=5, required=False, initial=120
    )
    escalate_to_emergency_contact = forms.BooleanField(
        label=_("Then write to the emergency contact"), required=False, initial=True
    )
    open_case_on_no_response = forms.BooleanField(
        label=_("Open a case for each person who did not answer"), required=False
    )

    def __init__(self, *args: Any, areas: Sequence[CheckArea], **kwargs: Any) -> None:
        """`areas`: the countries the staff member may check, each with its regions."""
        super().__init__(*args, **kwargs)
        country = self.fields["country"]
        regions = self.fields["regions"]
        assert isinstance(country, forms.ChoiceField)  # noqa: S101
        assert isinstance(regions, forms.MultipleChoiceField)  # noqa: S101
        country.choices = [(area.country_code, area.country_name) for area in areas]
        regions.choices = [
            (area.country_name, [(code, f"{code} · {name}") for code, name in area.regions])
            for area in areas
        ]

    @staticmethod
    def initial_of(check: SafetyCheck) -> dict[str, Any]:
        """A draft's values, to change it."""
        return {
            "country": check.country_id,
            "regions": check.region_codes,
            "question_en": check.question_en,
            "question_fr": check.question_fr,
            "deadline": timezone.localtime(check.deadline).strftime("%Y-%m-%dT%H:%M"),
            "send_email": check.send_email,
            "send_sms": check.send_sms,
            "reminder_minutes": check.reminder_minutes,
            "escalate_to_emergency_contact": check.escalate_to_emergency_contact,
            "open_case_on_no_response": check.open_case_on_no_response,
        }


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Why it is sent back to its author"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NoteForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(CaseEvent.Kind.NOTE, _("Note")), (CaseEvent.Kind.CALL, _("Call"))],
    )
    text = forms.CharField(
        label=_("Text"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Case.Status.choices)


class MessageForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("Any")), *Case.Status.choices], required=False
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Any")), *Case.Kind.choices], required=False
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("Any")), *Case.Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    assignee = forms.ChoiceField(
        label=_("Assigned to"),
        choices=[("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody"))],
        required=False,
    )
    post = forms.ChoiceField(label=_("Post"), required=False)

    def __init__(self, *args: Any, posts: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        """`posts`: (code, name) of the staff member's posts; one post needs no filter."""
        super().__init__(*args, **kwargs)
        if len(posts) < 2:
            del self.fields["post"]
            return
        post = self.fields["post"]
        assert isinstance(post, forms.ChoiceField)  # noqa: S101
        post.choices = [("", _("All my posts")), *posts]
