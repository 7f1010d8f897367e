"""Retrain a label set's model from human labels, gate it, and promote it if not worse."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_q.models import Task
from django_q.tasks import async_task

from classifier import ml_bridge
from classifier import selectors as classifier_selectors
from classifier.models import LabelSet, Meme
from classifier.reposts.selectors import memes_cluster_ids
from classifier.services import model_text, model_version_register
from moderation.autodecisions import auto_threshold_refresh
from moderation.learning.readiness import retrain_blocker
from moderation.models import RetrainRun
from moderation.selectors.memes import human_labels, memes_corrected_texts

logger = logging.getLogger(__name__)

GATE_FRACTION = 0.2
MIN_PER_CLASS = 2  # a class with fewer human labels than this cannot be trained or gated


class RetrainError(Exception):
    """The label set cannot be retrained now; the message says why."""


class RetrainBusy(RetrainError):
    """A run of the label set is already queued or running."""


@dataclass
class LabelledMeme:
    meme_id: int
    sha256: str
    image: str | bytes
    text: str
    label: str


def labelled_memes(*, label_set: LabelSet) -> list[LabelledMeme]:
    """Every meme's standing human label for `label_set`, with the text moderators settled on.

    The latest correction wins; memes marked unusable, and labels that are no
    longer classes of the label set, are left out.
    """
    labels = dict(
        human_labels(label_set=label_set)
        .filter(new_label__in=label_set.classes)
        .values_list("meme_id", "new_label")
    )
    # Text is a property of the meme: its latest text correction in any label set.
    texts = memes_corrected_texts(memes=list(labels))
    out = []
    for meme in Meme.objects.filter(pk__in=labels).order_by("pk"):
        ocr_text = texts.get(meme.pk, meme.ocr_text or "")
        try:
            image: str | bytes = meme.image.path
        except NotImplementedError:  # a storage without local paths
            with meme.image.open("rb") as fh:
                image = fh.read()
        out.append(
            LabelledMeme(
                meme_id=meme.pk,
                sha256=meme.sha256,
                image=image,
                text=model_text(ocr_text=ocr_text, caption=meme.caption),
                label=labels[meme.pk],
            )
        )
    return out


class _Clock:
    """Reports how long each stage took (retrain time is a promise in docs/benchmarks.md)."""

    def __init__(self, echo):
        self.echo, self.last = echo, time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.echo(f"  {stage}: {now - self.last:.1f} s")
        self.last = now


def _progress(run: RetrainRun | None, stage: str, done: int, total: int) -> None:
    if run is None:
        return
    run.stage, run.done, run.total = stage, done, total
    RetrainRun.objects.filter(pk=run.pk).update(stage=stage, done=done, total=total)


def retrain_run_create(
    *,
    label_set: LabelSet,
    force: bool = False,
    promote: bool = True,
    epochs: int | None = None,
    triggered_by=None,
    trigger: str = "command",
) -> RetrainRun:
    """Record a queued run; refuse (RetrainBusy) while another run of the label set is open.

    The database's partial unique constraint makes the rule race-safe: of two requests
    that both saw no open run, the second insert fails and is refused the same way.
    """
    busy = _retrain_run_open(label_set=label_set)
    if busy is None:
        try:
            with transaction.atomic():
                return RetrainRun.objects.create(
                    label_set=label_set,
                    force=force,
                    promote=promote,
                    epochs=epochs,
                    triggered_by=triggered_by
                    if getattr(triggered_by, "is_authenticated", False)
                    else None,
                    trigger=trigger,
                )
        except IntegrityError:
            busy = _retrain_run_open(label_set=label_set)
    raise RetrainBusy(
        f"A retrain of {label_set.name} is already {busy.status if busy else 'open'}"
        f"{f' (run #{busy.pk})' if busy else ''}: one run at a time per label set."
    )


def _retrain_run_open(*, label_set: LabelSet) -> RetrainRun | None:
    return RetrainRun.objects.filter(
        label_set=label_set, status__in=[RetrainRun.Status.QUEUED, RetrainRun.Status.RUNNING]
    ).first()


def retrain_run_claim(*, run: RetrainRun) -> bool:
    """Move a queued run to running; False when another worker (or the sweep) got there first.

    One conditional UPDATE, atomic on every database: a task delivered twice runs once.
    """
    now = timezone.now()
    claimed = RetrainRun.objects.filter(pk=run.pk, status=RetrainRun.Status.QUEUED).update(
        status=RetrainRun.Status.RUNNING, started_at=now
    )
    if claimed:
        run.status, run.started_at = RetrainRun.Status.RUNNING, now
    return bool(claimed)


def retrain_run_execute(*, run: RetrainRun, echo=None, progress_bars: bool = False) -> RetrainRun:
    """Run a queued retrain; a failure is recorded on the run and leaves the active model alone.

    A run someone else already claimed is returned as it stands, untouched.
    """
    if not retrain_run_claim(run=run):
        run.refresh_from_db()
        return run
    try:
        # Asked again here: labels may have been withdrawn since the run was queued.
        blocker = retrain_blocker(label_set=run.label_set)
        if blocker is not None:
            raise RetrainError(blocker)
        _retrain(run, echo or (lambda _msg: None), progress_bars)
    except Exception as exc:
        logger.exception("retrain %s failed", run.pk)
        run.status = RetrainRun.Status.FAILED
        run.error = str(exc) if isinstance(exc, RetrainError) else f"{type(exc).__name__}: {exc}"
    except BaseException:
        # Ctrl-C on `manage.py retrain`, or the worker told to stop: record it, then stop.
        run.status, run.error = RetrainRun.Status.FAILED, "interrupted before it finished"
        run.finished_at = timezone.now()
        run.save()
        raise
    else:
        run.status = RetrainRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    return run


def retrain_runs_sweep() -> int:
    """Mark failed every run whose worker died or that never reached a worker; return how many.

    Running past RETRAIN_RUNNING_SECONDS: no slow task outlives Q_SLOW_TIMEOUT, so its worker
    is gone. Queued past RETRAIN_QUEUED_SECONDS: the broker never took it (no task id) or no
    slow worker is running. Queued with a finished task: the task died before claiming it.
    Each update is conditional on the status it read, so a run that moved on meanwhile is
    left alone.
    """
    now = timezone.now()
    failed = 0
    running_limit = timedelta(seconds=settings.RETRAIN_RUNNING_SECONDS)
    for run in RetrainRun.objects.filter(
        status=RetrainRun.Status.RUNNING, started_at__lt=now - running_limit
    ):
        failed += _retrain_run_fail(
            run,
            RetrainRun.Status.RUNNING,
            f"its worker stopped: still running {_minutes(now - run.started_at)} after it "
            "started, longer than any slow task may run (RETRAIN_RUNNING_SECONDS)",
        )
    queued = RetrainRun.objects.filter(status=RetrainRun.Status.QUEUED)
    ended = dict(
        Task.objects.filter(id__in=[r.task_id for r in queued if r.task_id]).values_list(
            "id", "result"
        )
    )
    queued_limit = timedelta(seconds=settings.RETRAIN_QUEUED_SECONDS)
    for run in queued:
        if run.task_id in ended:
            reason = f"its task ended without starting the run: {str(ended[run.task_id])[:500]}"
        elif run.created_at >= now - queued_limit:
            continue
        elif not run.task_id:
            reason = "it was never handed to a worker: queueing its task failed"
        else:
            reason = (
                f"no slow worker started it within {_minutes(now - run.created_at)}: "
                "is `Q_CLUSTER_NAME=slow manage.py qcluster` running?"
            )
        failed += _retrain_run_fail(run, RetrainRun.Status.QUEUED, reason)
    if failed:
        logger.warning("marked %d stuck retrain run(s) failed", failed)
    return failed


def _retrain_run_fail(run: RetrainRun, status: str, reason: str) -> int:
    return RetrainRun.objects.filter(pk=run.pk, status=status).update(
        status=RetrainRun.Status.FAILED, error=reason, finished_at=timezone.now()
    )


def _minutes(delta: timedelta) -> str:
    minutes = round(delta.total_seconds() / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def promotion_decision(
    *, new_f1: float, old_f1: float | None, old_name: str, promote: bool, force: bool
) -> tuple[bool, str]:
    """Promote when the new model is not worse on gate macro-F1 (or forced); say why."""
    if old_f1 is None:
        better, why = True, "no usable active model: the first model of this label set"
    else:
        better = new_f1 >= old_f1
        verdict = "not worse" if better else "worse"
        why = f"gate macro-F1 {new_f1:.4f} (new) vs {old_f1:.4f} ({old_name}): {verdict}"
    if not promote:
        return False, f"not promoted (--no-promote); {why}"
    if better:
        return True, f"promoted: {why}"
    if force:
        return True, f"promoted by --force although {why}"
    return False, f"kept {old_name}: {why}"


def _retrain(run: RetrainRun, echo, progress_bars: bool) -> None:
    import ml
    from ml.data import Example
    from ml.evaluation import baselines, compute_metrics, summary
    from ml.features import FeatureCache, extract_features
    from ml.pipeline import data_fingerprint, report_for
    from ml.registry import save_model
    from ml.training import (
        TrainConfig,
        duplicate_groups,
        group_split,
        stable_holdout,
        train_on_features,
    )

    label_set = run.label_set
    classes = list(label_set.classes)
    clock = _Clock(echo)
    _progress(run, "gathering labels", 0, 0)
    memes = labelled_memes(label_set=label_set)
    counts = {c: sum(m.label == c for m in memes) for c in classes}
    run.counts = {"labelled": len(memes), **counts}
    short = [c for c, n in counts.items() if n < MIN_PER_CLASS * 2]
    if len([c for c, n in counts.items() if n > 0]) < 2 or short:
        raise RetrainError(
            f"not enough human labels for {label_set.name}: {counts} "
            f"(each class needs at least {MIN_PER_CLASS * 2})"
        )
    echo(f"{len(memes)} labelled memes for {label_set.name}: {counts}")
    clock.lap("gathering labels")
    examples = [
        Example(
            image=m.image, text=m.text, label=m.label, image_sha256=m.sha256, key=str(m.meme_id)
        )
        for m in memes
    ]
    config = TrainConfig(
        label_set=label_set.name,
        classes=tuple(classes),
        epochs=run.epochs or 20,
        feature_cache=str(settings.ML_FEATURE_CACHE),
        progress=progress_bars,
    )
    img, txt = extract_features(
        examples,
        config.encoders,
        FeatureCache(config.feature_cache),
        config.progress,
        callback=lambda stage, done, total: _progress(run, stage, done, total),
    )
    y = np.array([classes.index(e.label) for e in examples])
    # Reposts of one picture (its repost cluster) stay on one side of every split.
    clusters = memes_cluster_ids(meme_ids=[m.meme_id for m in memes])
    groups = duplicate_groups(examples, extra=[clusters.get(m.meme_id) for m in memes])
    gate = stable_holdout(examples, groups, GATE_FRACTION)
    if any(((y[gate] == i).sum() < MIN_PER_CLASS) for i in range(len(classes))) or gate.all():
        # Too few labels for the hash-based gate to hold every class: fall back to a
        # stratified split that still keeps duplicate groups whole.
        _train_idx, gate_idx = group_split(y, groups, GATE_FRACTION, seed=0)
        gate = np.zeros(len(y), bool)
        gate[gate_idx] = True
    rest, held = np.flatnonzero(~gate), np.flatnonzero(gate)
    run.counts.update({"train_and_validation": len(rest), "gate": len(held)})
    clock.lap("features (cached or computed)")
    echo(f"gate split: {len(held)} memes; training on {len(rest)}")
    model = train_on_features(
        [examples[i] for i in rest],
        img[rest],
        txt[rest],
        config,
        groups[rest],
        callback=lambda stage, done, total: _progress(run, stage, done, total),
    )
    clock.lap("training")
    _progress(run, "evaluating", 0, 0)
    new_probs = model.probabilities_from_features(img[held], txt[held])
    new_raw = model.probabilities_from_features(img[held], txt[held], calibrated=False)
    base = baselines(
        y[rest],
        [examples[i].text for i in rest],
        y[held],
        [examples[i].text for i in held],
        classes,
    )
    report, plots = report_for(model, y[held], new_probs, base, uncalibrated=new_raw)
    new_metrics = report["test"]

    active = classifier_selectors.model_version_active(label_set=label_set.name)
    active_metrics = None
    if active is not None:
        try:
            old = ml_bridge.load_model(label_set.name, active.artifact_path)
            if old.encoders == model.encoders:
                old_probs = old.probabilities_from_features(img[held], txt[held])
            else:
                old_probs = ml.predict(
                    old, [examples[i].image for i in held], [examples[i].text for i in held]
                )
            old_index = [old.classes.index(c) for c in classes]
            active_metrics = compute_metrics(y[held], old_probs[:, old_index], classes)
        except Exception as exc:  # an unloadable active model is not worth keeping
            echo(
                f"the active model {active.version} cannot be evaluated ({exc}); "
                "treating it as absent"
            )
    run.compared_with = active
    run.gate_metrics = {
        "new": summary(new_metrics),
        "active": summary(active_metrics) if active_metrics else None,
    }
    report["gate_comparison"] = run.gate_metrics

    old_f1 = active_metrics["macro_f1"] if active_metrics else None
    promote, decision = promotion_decision(
        new_f1=new_metrics["macro_f1"],
        old_f1=old_f1,
        old_name=active.version if active else "",
        promote=run.promote,
        force=run.force,
    )

    clock.lap("evaluating both models and the baselines")
    _progress(run, "saving", 0, 0)
    info = {
        "metrics": summary(new_metrics),
        "parent": active.version if active else None,
        "data_fingerprint": data_fingerprint(examples),
        "training_counts": run.counts,
        "trained_by": f"retrain ({run.trigger})",
    }
    path = save_model(
        model,
        Path(settings.ML_MODEL_ROOT),
        keras_head=model.keras_head,
        report=report,
        extra_files=plots,
        info=info,
    )
    with transaction.atomic():
        version = model_version_register(
            label_set=label_set,
            version=model.version,
            artifact_path=str(path),
            metrics=summary(new_metrics),
            training_counts=run.counts,
            parent=active,
            triggered_by=run.triggered_by,
            activate=promote,
        )
        run.new_version, run.promoted, run.decision = version, promote, decision
        run.save()
    if promote:
        auto_threshold_refresh(label_set=label_set)  # thresholds belong to one version
    clock.lap("saving and registering")
    echo(decision)
    if promote and settings.RECLASSIFY_AFTER_PROMOTION:
        from moderation.learning.versions import reclassify_enqueue

        reclassify_enqueue(label_set=label_set)


RETRAIN_TASK = "moderation.tasks.retrain_label_set"


def retrain_enqueue(*, label_set: LabelSet, triggered_by=None, force: bool = False) -> RetrainRun:
    """Queue a retrain on the slow queue (so uploads are never delayed by it).

    Refused (RetrainError, nothing queued) while the label set has too few labels or
    another of its runs is open.
    """
    blocker = retrain_blocker(label_set=label_set)
    if blocker is not None:
        raise RetrainError(blocker)
    with transaction.atomic():
        run = retrain_run_create(
            label_set=label_set, force=force, triggered_by=triggered_by, trigger="dashboard"
        )
        transaction.on_commit(partial(_retrain_run_queue, run.pk))
    return run


def _retrain_run_queue(run_id: int) -> None:
    try:
        task_id = async_task(RETRAIN_TASK, run_id, cluster="slow", task_name=f"retrain-{run_id}")
    except Exception as exc:  # the broker is down: say so on the run now, not after the sweep
        logger.exception("queueing retrain %s failed", run_id)
        _retrain_run_fail(
            RetrainRun(pk=run_id),
            RetrainRun.Status.QUEUED,
            f"it could not be queued ({type(exc).__name__}: {exc}); try again",
        )
        return
    RetrainRun.objects.filter(pk=run_id).update(task_id=task_id)
