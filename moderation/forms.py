"""Forms only parse and validate input; the decisions happen in services."""

from django import forms

from classifier.converters import MAX_ID
from moderation.selectors.queue import ORDER_CHOICES, ORDER_UNCERTAIN, QueueFilters
from moderation.services import BULK_CONFIRM, BULK_RELABEL


class QueueFilterForm(forms.Form):
    """The queue's GET parameters; unknown or bad values are dropped, not fatal."""

    order = forms.ChoiceField(choices=ORDER_CHOICES, required=False)
    status = forms.ChoiceField(required=False)
    predicted_label = forms.ChoiceField(required=False, label="Predicted")
    confidence_min = forms.FloatField(required=False, min_value=0, max_value=1, label="Conf. ≥")
    confidence_max = forms.FloatField(required=False, min_value=0, max_value=1, label="Conf. ≤")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    uploader = forms.CharField(required=False, max_length=150)
    model_version = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Model"
    )

    def __init__(self, *args, label_set, statuses, versions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "any")] + list(statuses)
        self.fields["predicted_label"].choices = [("", "any")] + [(c, c) for c in label_set.classes]
        self.fields["model_version"].choices = [("", "any")] + [
            (str(v.pk), v.version) for v in versions
        ]

    def filters(self) -> QueueFilters:
        """The valid part of the input as QueueFilters."""
        self.is_valid()
        data = {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if name not in self.errors and value not in (None, "")
        }
        data.setdefault("order", ORDER_UNCERTAIN)
        return QueueFilters(**data)


class DecisionForm(forms.Form):
    """One moderator decision from the review page."""

    ACTION_CONFIRM = "confirm"
    ACTION_UNUSABLE = "unusable"
    ACTION_SKIP = "skip"

    action = forms.ChoiceField(
        choices=[(ACTION_CONFIRM, "Confirm"), (ACTION_UNUSABLE, "Unusable"), (ACTION_SKIP, "Skip")]
    )
    label = forms.ChoiceField(required=False)
    text = forms.CharField(required=False, strip=False, widget=forms.Textarea(attrs={"rows": 4}))
    # Set by the page when the moderator opened the text editor; otherwise the
    # text field is ignored so that an untouched page never records a text edit.
    text_edited = forms.BooleanField(required=False)
    # Bounded like a row id: a larger number would overflow the database's integer.
    seen_correction = forms.IntegerField(required=False, min_value=0, max_value=MAX_ID)
    seen_text_correction = forms.IntegerField(required=False, min_value=0, max_value=MAX_ID)
    # Give the same decision to the meme's reposts that have no human label yet.
    apply_to_cluster = forms.BooleanField(required=False)
    # The queue's query string, so "next" keeps the moderator's filters and order.
    q = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, label_set, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].choices = [("", "—")] + [(c, c) for c in label_set.classes]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == self.ACTION_CONFIRM and not cleaned.get("label"):
            self.add_error("label", "Pick a label first.")
        for name in ("seen_correction", "seen_text_correction"):
            # 0 on the page means "there was none".
            cleaned[name] = cleaned.get(name) or None
        return cleaned


class IdListField(forms.Field):
    """Several integer ids under one name (checkboxes or hidden inputs)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            ids = sorted({int(v) for v in value or []})
        except (TypeError, ValueError):
            raise forms.ValidationError("Bad meme id.") from None
        # Out of a row id's range, the database would overflow (a 500), not "not found".
        if any(not 0 < i <= MAX_ID for i in ids):
            raise forms.ValidationError("Bad meme id.")
        return ids

    def validate(self, value):
        super().validate(value)
        if self.required and not value:
            raise forms.ValidationError("Select at least one meme.")


class BulkForm(forms.Form):
    ACTION_CHOICES = [
        (BULK_CONFIRM, "Confirm as predicted"),
        (BULK_RELABEL, "Relabel as…"),
    ]

    action = forms.ChoiceField(choices=ACTION_CHOICES)
    label = forms.ChoiceField(required=False)
    memes = IdListField()
    confirmed = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, label_set, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["label"].choices = [("", "—")] + [(c, c) for c in label_set.classes]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == BULK_RELABEL and not cleaned.get("label"):
            self.add_error("label", "Pick the new label.")
        return cleaned


class AutoPolicyForm(forms.Form):
    """A label set's automatic-decision policy, in percent as moderators think of it."""

    target_precision = forms.FloatField(
        required=False,
        min_value=50,
        max_value=99.99,
        help_text="Target precision in percent (e.g. 98); empty turns automatic decisions off.",
    )
    audit_rate = forms.FloatField(min_value=0, max_value=100, initial=5)

    def clean_target_precision(self):
        value = self.cleaned_data["target_precision"]
        return None if value is None else value / 100

    def clean_audit_rate(self):
        return self.cleaned_data["audit_rate"] / 100
