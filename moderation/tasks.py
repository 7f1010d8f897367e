"""django-q2 task functions for the learning loop: they take ids and call a service."""

from classifier.models import LabelSet
from moderation.learning.retrain import retrain_run_execute, retrain_runs_sweep
from moderation.learning.versions import reclassify
from moderation.models import RetrainRun


def retrain_label_set(run_id: int) -> str:
    """Execute a queued RetrainRun; its row shows progress and the outcome.

    Idempotent: a run another delivery of this task already claimed is left alone
    (retrain_run_execute claims it atomically).
    """
    run = RetrainRun.objects.select_related("label_set").get(pk=run_id)
    return retrain_run_execute(run=run).status


def sweep_retrain_runs() -> int:
    """Mark failed the runs whose worker died or that no worker took (run on a schedule)."""
    return retrain_runs_sweep()


def reclassify_label_set(label_set_id: int) -> int:
    return reclassify(label_set=LabelSet.objects.get(pk=label_set_id))


def import_dataset(import_id: int) -> str:
    """Execute a queued DatasetImport; its row shows progress and the summary."""
    from moderation.learning.label_sets import dataset_import_execute
    from moderation.models import DatasetImport

    row = DatasetImport.objects.select_related("label_set").get(pk=import_id)
    return dataset_import_execute(dataset_import_row=row).status
