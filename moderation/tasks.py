"""django-q2 task functions for the learning loop: they take ids and call a service."""

from classifier.models import LabelSet
from moderation.learning.retrain import retrain_run_execute
from moderation.learning.versions import reclassify
from moderation.models import RetrainRun


def retrain_label_set(run_id: int) -> str:
    """Execute a queued RetrainRun; its row shows progress and the outcome."""
    run = RetrainRun.objects.select_related("label_set").get(pk=run_id)
    if run.status != RetrainRun.Status.QUEUED:
        return run.status  # already taken by another attempt: idempotent
    return retrain_run_execute(run=run).status


def reclassify_label_set(label_set_id: int) -> int:
    return reclassify(label_set=LabelSet.objects.get(pk=label_set_id))


def import_dataset(import_id: int) -> str:
    """Execute a queued DatasetImport; its row shows progress and the summary."""
    from moderation.learning.label_sets import dataset_import_execute
    from moderation.models import DatasetImport

    row = DatasetImport.objects.select_related("label_set").get(pk=import_id)
    return dataset_import_execute(dataset_import_row=row).status
