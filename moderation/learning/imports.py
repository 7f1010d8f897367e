"""Import a labelled dataset: memes, their text, and human labels attributed to the import."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from classifier import services as classifier_services
from classifier.models import LabelSet
from classifier.validation import InvalidImage, normalise_upload
from moderation.models import LabelCorrection
from moderation.selectors.memes import meme_latest_correction
from moderation.services import correction_create


class DatasetImportError(Exception):
    """The import cannot start (missing file, column or label set)."""


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    duplicate: int = 0
    missing_image: int = 0
    unreadable: int = 0
    unmapped: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in ("rows", "imported", "duplicate", "missing_image", "unreadable", "unmapped")
        }


def parse_label_map(text: str | None) -> dict[str, str]:
    """'raw=class,raw2=class' -> {raw: class}."""
    if not text:
        return {}
    mapping = {}
    for part in text.split(","):
        if not part.strip():
            continue
        raw, sep, cls = part.partition("=")
        if not sep or not raw.strip() or not cls.strip():
            raise DatasetImportError(f"--map entries look like raw=class; got {part!r}")
        mapping[raw.strip()] = cls.strip()
    return mapping


@transaction.atomic
def label_set_get_or_create(*, name: str, classes: list[str], create: bool) -> LabelSet:
    label_set = LabelSet.objects.filter(name=name).first()
    if label_set is not None:
        return label_set
    if not create:
        raise DatasetImportError(
            f"label set {name!r} does not exist (pass --create-label-set to create it)"
        )
    if len(classes) < 2:
        raise DatasetImportError(f"cannot create label set {name!r}: fewer than two classes")
    return LabelSet.objects.create(
        name=name, classes=classes, description="Created by import_dataset."
    )


def dataset_import(
    *,
    csv_path: str | Path,
    images_dir: str | Path,
    label_set_name: str,
    label_column: str,
    text_column: str | None = None,
    image_column: str = "image_name",
    label_map: dict[str, str] | None = None,
    create_label_set: bool = False,
    on_row: Callable[[int, int], None] | None = None,
) -> ImportSummary:
    """Import every row; a bad row is counted and reported, never fatal.

    Each image is stored as a meme through the same validation as an upload
    (deduplicated by SHA-256), and its label is recorded as a correction with
    source "import" (with the dataset's text as the meme's corrected text), so
    the audit trail says where it came from. Running it twice imports nothing new.
    """
    csv_path, images_dir = Path(csv_path), Path(images_dir)
    if not csv_path.is_file():
        raise DatasetImportError(f"CSV not found: {csv_path}")
    if not images_dir.is_dir():
        raise DatasetImportError(f"image folder not found: {images_dir}")
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    columns = set(rows[0]) if rows else set()
    for column in filter(None, (label_column, text_column, image_column)):
        if rows and column not in columns:
            raise DatasetImportError(
                f"{csv_path.name} has no column {column!r} (columns: {', '.join(sorted(columns))})"
            )
    label_map = label_map or {}
    raw_labels = {(r.get(label_column) or "").strip() for r in rows} - {""}
    classes = sorted({label_map.get(v, v) for v in raw_labels} if label_map else raw_labels)
    label_set = label_set_get_or_create(
        name=label_set_name, classes=classes, create=create_label_set
    )

    summary = ImportSummary(rows=len(rows))
    for number, row in enumerate(rows, start=2):
        _import_row(
            row,
            number,
            label_set,
            images_dir,
            label_column,
            text_column,
            image_column,
            label_map,
            summary,
        )
        if on_row is not None:
            on_row(number - 1, len(rows))
    return summary


def _import_row(
    row, number, label_set, images_dir, label_column, text_column, image_column, label_map, summary
):
    name = Path((row.get(image_column) or "").strip()).name
    raw = (row.get(label_column) or "").strip()
    label = label_map.get(raw, raw if not label_map else None)
    if label is None or label not in label_set.classes:
        summary.unmapped += 1
        summary.problems.append(f"row {number}: label {raw!r} is not a class of {label_set.name}")
        return
    path = images_dir / name
    if not name or not path.is_file():
        summary.missing_image += 1
        summary.problems.append(f"row {number}: image {name or '(empty)'} not found")
        return
    try:
        image = normalise_upload(path.read_bytes(), name)
    except (InvalidImage, OSError) as exc:
        summary.unreadable += 1
        summary.problems.append(f"row {number}: {name}: {exc}")
        return
    meme, created = classifier_services.meme_create(image=image, uploader=None)
    latest = meme_latest_correction(meme=meme, label_set=label_set)
    if not created and latest is not None:
        summary.duplicate += 1
        return
    text = (row.get(text_column) or "").strip() if text_column else ""
    try:
        correction_create(
            meme=meme,
            label_set=label_set,
            moderator=None,
            new_label=label,
            new_text=text or None,
            check_stale=False,
            source=LabelCorrection.Source.IMPORT,
        )
    except ValidationError as exc:
        summary.unmapped += 1
        summary.problems.append(f"row {number}: {exc}")
        return
    summary.imported += 1
