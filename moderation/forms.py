"""Forms only parse and validate input; the decisions happen in services."""

from django import forms
from django.conf import settings

from classifier.converters import MAX_ID
from moderation.learning.imports import DatasetImportError, parse_label_map
from moderation.selectors.queue import (
    ORDER_CHOICES,
    ORDER_UNCERTAIN,
    REASON_CHOICES,
    QueueFilters,
)
from moderation.selectors.search import LABEL_NONE, LABEL_UNUSABLE, SearchQuery
from moderation.services import BULK_CONFIRM, BULK_RELABEL


class QueueFilterForm(forms.Form):
    """The queue's GET parameters; unknown or bad values are dropped, not fatal."""

    order = forms.ChoiceField(choices=ORDER_CHOICES, required=False)
    reason = forms.ChoiceField(
        choices=[("", "any")] + REASON_CHOICES, required=False, label="Waiting because"
    )
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
    offensive_min = forms.FloatField(required=False, min_value=0, max_value=1, label="Offensive ≥")
    nsfw_min = forms.FloatField(required=False, min_value=0, max_value=1, label="NSFW ≥")

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


class SearchForm(forms.Form):
    """The search page's GET parameters; bad values are dropped, not fatal."""

    text = forms.CharField(required=False, max_length=500, label="Text or id")
    uploader = forms.CharField(required=False, max_length=150)
    label = forms.ChoiceField(required=False, label="Human label")
    decision = forms.ChoiceField(required=False, label="Model decision")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, label_set, **kwargs):
        super().__init__(*args, **kwargs)
        classes = [(c, c) for c in label_set.classes]
        self.fields["label"].choices = (
            [("", "any")] + classes + [(LABEL_UNUSABLE, "unusable"), (LABEL_NONE, "no decision")]
        )
        self.fields["decision"].choices = [("", "any")] + classes
        self.fields["text"].widget.attrs.update({"type": "search", "autofocus": True})

    def query(self) -> SearchQuery:
        """The valid part of the input as a SearchQuery."""
        self.is_valid()
        data = {
            name: value
            for name, value in getattr(self, "cleaned_data", {}).items()
            if name not in self.errors and value not in (None, "")
        }
        return SearchQuery(**data)


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class LabelSetForm(forms.Form):
    """A new label set: its classes as a comma-separated list."""

    name = forms.SlugField(max_length=64, help_text="Lower case, digits and dashes, e.g. spam.")
    classes = forms.CharField(
        max_length=1000, help_text="Comma-separated, at least two, e.g. spam, not_spam."
    )
    alert_class = forms.CharField(
        max_length=64, required=False, help_text="The class moderators watch for (optional)."
    )
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    review_threshold = forms.FloatField(
        min_value=0,
        max_value=1,
        initial=0.8,
        help_text="Below this model confidence the review page picks no class for the moderator.",
    )

    def clean_classes(self):
        classes = _names(self.cleaned_data["classes"])
        if len(classes) < 2 or len(set(classes)) != len(classes):
            raise forms.ValidationError("Give at least two different classes.")
        if any(len(c) > 64 for c in classes):
            raise forms.ValidationError("A class name has at most 64 characters.")
        return classes

    def clean(self):
        cleaned = super().clean()
        alert = (cleaned.get("alert_class") or "").strip()
        if alert and cleaned.get("classes") and alert not in cleaned["classes"]:
            self.add_error("alert_class", "The alert class must be one of the classes.")
        cleaned["alert_class"] = alert
        return cleaned


class DatasetImportForm(forms.Form):
    """A labelled CSV plus a zip of the images its rows name."""

    csv_file = forms.FileField(label="Labels (CSV)")
    images = forms.FileField(label="Images (zip)")
    label_column = forms.CharField(max_length=128, initial="label")
    image_column = forms.CharField(max_length=128, initial="image_name")
    text_column = forms.CharField(
        max_length=128, required=False, help_text="Optional: the memes' transcribed text."
    )
    label_map = forms.CharField(
        max_length=2000,
        required=False,
        help_text="Optional: raw=class pairs, comma-separated, e.g. 1=hateful,0=not_hateful.",
    )

    def clean_csv_file(self):
        upload = self.cleaned_data["csv_file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError("The CSV is larger than IMPORT_MAX_BYTES.")
        return upload

    def clean_images(self):
        upload = self.cleaned_data["images"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            limit = settings.IMPORT_MAX_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The zip is larger than {limit} MB (IMPORT_MAX_BYTES).")
        return upload

    def clean_label_map(self):
        try:
            return parse_label_map(self.cleaned_data["label_map"])
        except DatasetImportError as error:
            raise forms.ValidationError(str(error).replace("--map entries", "Pairs")) from None
