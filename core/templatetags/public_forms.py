"""The citizens' forms: every error of a page listed at its top, each linked to its field,
before the reader has to hunt for it (WCAG 3.3.1, the GOV.UK error summary)."""

from dataclasses import dataclass
from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.functional import Promise
from django.utils.translation import gettext as _

register = template.Library()


@dataclass(frozen=True)
class Entry:
    text: str
    anchor: str  # the id of the input to go to; "" when the error belongs to no field


def _anchor(field: BoundField) -> str:
    """The id of the input the field's label names, or of its first choice (a group of radio
    buttons or checkboxes has no single input to go to)."""
    if field.id_for_label:
        return str(field.id_for_label)
    subwidgets = field.subwidgets
    return str(subwidgets[0].id_for_label or "") if subwidgets else ""


def _form_entries(form: forms.BaseForm, item: str) -> list[Entry]:
    if not form.is_bound or not form.errors:
        return []
    visible = form.visible_fields()
    first = _anchor(visible[0]) if visible else ""
    entries = [Entry(str(error), first) for error in form.non_field_errors()]
    for field in form.hidden_fields():
        entries += [Entry(str(error), first) for error in field.errors]
    for field in visible:
        label = f"{item}, {field.label}" if item else str(field.label)
        entries += [Entry(_told(label, str(error)), _anchor(field)) for error in field.errors]
    return entries


def _told(label: str, error: str) -> str:
    # A label that is a sentence (a question, a consent) ends itself: no colon after it.
    if label.endswith(("?", ".", "!")):
        return f"{label} {error}"
    return _("%(field)s: %(error)s") % {"field": label, "error": error}


@register.inclusion_tag("core/_error_summary.html")
def error_summary(*forms_and_labels: Any) -> dict[str, object]:
    """`{% error_summary presence person household _("Person") %}`: the errors of each form or
    formset, in the page's order; a string after a formset names its rows ("Person 2, Name")."""
    entries: list[Entry] = []
    for position, given in enumerate(forms_and_labels):
        if isinstance(given, forms.BaseForm):
            entries += _form_entries(given, "")
        elif isinstance(given, forms.BaseFormSet) and given.is_bound:
            following = forms_and_labels[position + 1 : position + 2]
            # A label is a string or, written `_("...")` in the template, a lazy translation.
            noun = (
                str(following[0]) if following and isinstance(following[0], str | Promise) else ""
            )
            first_fields = given.forms[0].visible_fields() if given.forms else []
            first = _anchor(first_fields[0]) if first_fields else ""
            entries += [Entry(str(error), first) for error in given.non_form_errors()]
            for number, form in enumerate(given.forms, start=1):
                entries += _form_entries(form, f"{noun} {number}" if noun else str(number))
    return {"entries": entries}
