"""Export of the human labels as CSV and JSON Lines.

The CSV is opened by moderators in spreadsheets, and its cells hold what users typed or
uploaded (file names, captions, OCR and corrected text, user names): a cell that a
spreadsheet would read as a formula is neutralised (defusedcsv, plus the two leading
characters of the OWASP rule it does not cover). JSON Lines is for programs and keeps
every value exactly as stored.
"""

import json

from defusedcsv import csv
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.views.decorators.http import require_GET

from classifier.models import LabelSet
from classifier.selectors import label_set_get, label_set_list
from moderation.selectors.export import EXPORT_FIELDS, human_label_rows
from moderation.views.common import moderator_required


def _export_label_sets(request: HttpRequest) -> list[LabelSet]:
    """One label set when asked for by name, else all of them."""
    name = request.GET.get("label_set")
    if not name:
        return list(label_set_list())
    label_set = label_set_get(name=name)
    if label_set is None:
        raise Http404("No such label set.")
    return [label_set]


class _Echo:
    """A file-like object whose write returns the line, for streaming csv."""

    def write(self, value: str) -> str:
        return value


# OWASP's CSV-injection rule also names a leading tab and carriage return, which some
# spreadsheets skip before reading "=..."; defusedcsv only looks at =, +, -, @, | and %.
_LEADING_CONTROL = ("\t", "\r")


def _neutralise(row: dict) -> dict:
    return {
        key: "'" + value if isinstance(value, str) and value.startswith(_LEADING_CONTROL) else value
        for key, value in row.items()
    }


@require_GET
@moderator_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    rows = human_label_rows(label_sets=_export_label_sets(request))
    writer = csv.DictWriter(_Echo(), fieldnames=EXPORT_FIELDS)
    lines = (writer.writerow(_neutralise(row)) for row in rows)
    header = writer.writerow(dict(zip(EXPORT_FIELDS, EXPORT_FIELDS, strict=True)))
    response = StreamingHttpResponse(_chain(header, lines), content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="human-labels.csv"'
    return response


@require_GET
@moderator_required
def export_jsonl(request: HttpRequest) -> StreamingHttpResponse:
    rows = human_label_rows(label_sets=_export_label_sets(request))
    lines = (json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    response = StreamingHttpResponse(lines, content_type="application/x-ndjson")
    response["Content-Disposition"] = 'attachment; filename="human-labels.jsonl"'
    return response


def _chain(first: str, rest):
    yield first
    yield from rest
