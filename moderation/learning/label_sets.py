"""Label sets from the UI: create one, and import labelled memes into it in the background."""

from __future__ import annotations

import logging
import shutil
import zipfile
from functools import partial
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from classifier.models import LabelSet
from moderation.learning.imports import DatasetImportError, dataset_import
from moderation.models import DatasetImport

logger = logging.getLogger(__name__)

IMPORT_TASK = "moderation.tasks.import_dataset"
# Progress is written every this many rows: often enough to watch, rarely enough not to
# turn an import into a stream of UPDATEs.
_PROGRESS_EVERY = 10


@transaction.atomic
def label_set_create(
    *,
    name: str,
    classes: list[str],
    alert_class: str = "",
    description: str = "",
    review_threshold: float = 0.8,
) -> LabelSet:
    """Create a label set; its first model comes from a retrain once it has labels."""
    if LabelSet.objects.filter(name=name).exists():
        raise ValidationError(f"A label set named {name!r} exists already.")
    if len(classes) < 2 or len(set(classes)) != len(classes):
        raise ValidationError("A label set needs at least two different classes.")
    if alert_class and alert_class not in classes:
        raise ValidationError(f"The alert class {alert_class!r} is not one of the classes.")
    if not 0 <= review_threshold <= 1:
        raise ValidationError("The review threshold is a confidence from 0 to 1.")
    return LabelSet.objects.create(
        name=name,
        classes=classes,
        alert_class=alert_class,
        description=description,
        review_threshold=review_threshold,
    )


def _unpack_images(zip_file, into: Path) -> int:
    """Extract the zip's files flat into ``into``; return how many.

    Written out rather than ZipFile.extractall: member names are reduced to their last
    component (no path escapes out of the folder) and the unpacked size is capped, so a
    zip bomb stops at IMPORT_MAX_BYTES instead of filling the disk.
    """
    limit = settings.IMPORT_MAX_BYTES
    written = count = 0
    try:
        archive = zipfile.ZipFile(zip_file)
    except zipfile.BadZipFile:
        raise ValidationError("The images file is not a zip archive.") from None
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename.replace("\\", "/")).name
            if info.is_dir() or not name or name.startswith(".") or "__MACOSX" in info.filename:
                continue
            written += info.file_size
            if written > limit:
                raise ValidationError(
                    f"The images unpack to more than {limit // (1024 * 1024)} MB "
                    "(IMPORT_MAX_BYTES)."
                )
            with archive.open(info) as source, open(into / name, "wb") as target:
                shutil.copyfileobj(source, target)
            count += 1
    if not count:
        raise ValidationError("The zip holds no files.")
    return count


def dataset_import_enqueue(
    *,
    label_set: LabelSet,
    csv_file,
    zip_file,
    label_column: str,
    text_column: str = "",
    image_column: str = "image_name",
    label_map: dict[str, str] | None = None,
    created_by=None,
) -> DatasetImport:
    """Store the uploaded CSV and images and queue their import on the slow queue."""
    root = Path(settings.IMPORT_ROOT)
    with transaction.atomic():
        row = DatasetImport.objects.create(
            label_set=label_set,
            folder="",
            csv_name=Path(csv_file.name or "labels.csv").name,
            label_column=label_column,
            text_column=text_column,
            image_column=image_column,
            label_map=label_map or {},
            created_by=created_by,
        )
        folder = root / f"import-{row.pk}"
        images = folder / "images"
        images.mkdir(parents=True, exist_ok=True)
        try:
            with open(folder / "labels.csv", "wb") as target:
                for chunk in csv_file.chunks():
                    target.write(chunk)
            _unpack_images(zip_file, images)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)  # the row rolls back with it
            raise
        row.folder = str(folder)
        row.save(update_fields=["folder"])
        transaction.on_commit(partial(_enqueue, row.pk))
    return row


def _enqueue(import_id: int) -> None:
    from django_q.tasks import async_task

    async_task(IMPORT_TASK, import_id, cluster="slow", task_name=f"import-{import_id}")


def dataset_import_execute(*, dataset_import_row: DatasetImport) -> DatasetImport:
    """Run one queued import through moderation.learning.imports.dataset_import."""
    row = dataset_import_row
    claimed = DatasetImport.objects.filter(pk=row.pk, status=DatasetImport.Status.QUEUED).update(
        status=DatasetImport.Status.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        row.refresh_from_db()
        return row  # another attempt has it, or it is done: idempotent

    def on_row(done: int, total: int) -> None:
        if done == total or done % _PROGRESS_EVERY == 0:
            DatasetImport.objects.filter(pk=row.pk).update(done=done, total=total)

    folder = Path(row.folder)
    try:
        summary = dataset_import(
            csv_path=folder / "labels.csv",
            images_dir=folder / "images",
            label_set_name=row.label_set.name,
            label_column=row.label_column,
            text_column=row.text_column or None,
            image_column=row.image_column,
            label_map=row.label_map or None,
            on_row=on_row,
        )
    except DatasetImportError as error:
        _finish(row, status=DatasetImport.Status.FAILED, error=str(error))
    except Exception:
        logger.exception("dataset import %s failed", row.pk)
        _finish(
            row,
            status=DatasetImport.Status.FAILED,
            error="The import stopped on an unexpected error; it is in the server log.",
        )
    else:
        _finish(
            row,
            status=DatasetImport.Status.SUCCEEDED,
            summary=summary.as_dict(),
            problems=summary.problems[:200],
        )
    finally:
        # The images now live in the media storage as memes; the upload is not needed.
        shutil.rmtree(folder / "images", ignore_errors=True)
    row.refresh_from_db()
    return row


def _finish(row: DatasetImport, **fields) -> None:
    DatasetImport.objects.filter(pk=row.pk).update(finished_at=timezone.now(), **fields)
