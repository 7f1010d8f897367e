"""Retrain a label set's model from human labels, gate it, and promote it if not worse.

The training itself is ml.pipeline (the same as `python -m ml train`); this module gathers
the labels, records the run, compares the new and the active model on the same gate memes
with ml.gate, and applies its verdict.
"""

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
from moderation.learning.versions import reclassify_enqueue
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
    text: str  # what the worker reads: OCR text (else the moderators' text), then the caption
    label: str
    alt_text: str = ""  # the moderators' text, then the caption, when it differs


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
        corrected = texts.get(meme.pk)
        # Train on what is served: the worker reads the OCR text, so that is the text a
        # model is fitted and scored on; the moderators' text is an extra training row.
        served = meme.ocr_text or corrected or ""
        try:
            image: str | bytes = meme.image.path
        except NotImplementedError:  # a storage without local paths
            with meme.image.open("rb") as fh:
                image = fh.read()
        text = model_text(ocr_text=served, caption=meme.caption)
        alt = model_text(ocr_text=corrected, caption=meme.caption) if corrected else ""
        out.append(
            LabelledMeme(
                meme_id=meme.pk,
                sha256=meme.sha256,
                image=image,
                text=text,
                label=labels[meme.pk],
                alt_text=alt if alt != text else "",
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


def promotion_decision(*, gate: dict, promote: bool, force: bool) -> tuple[bool, str]:
    """Apply the gate's verdict (ml.gate.evaluate_gate), or --force / --no-promote; say why."""
    why = gate["reason"]
    if not promote:
        return False, f"not promoted (--no-promote); {why}"
    if gate["approved"]:
        return True, f"promoted: {why}"
    if force:
        return True, f"promoted by --force although not approved by the gate: {why}"
    kept = f"kept {gate['against']}" if gate.get("against") != "baselines" else "not promoted"
    return False, f"{kept}: {why}"


def _gate_split(examples, groups, y, n_classes: int) -> np.ndarray:
    from ml.training import group_split, stable_holdout

    gate = stable_holdout(examples, groups, GATE_FRACTION)
    if any(((y[gate] == i).sum() < MIN_PER_CLASS) for i in range(n_classes)) or gate.all():
        # Too few labels for the hash-based gate to hold every class: fall back to a
        # stratified split that still keeps duplicate groups whole.
        _train_idx, gate_idx = group_split(y, groups, GATE_FRACTION, seed=0)
        gate = np.zeros(len(y), bool)
        gate[gate_idx] = True
    return gate


def _active_probabilities(active, examples, classes, config, echo):
    """The active model's probabilities on the gate memes, in `classes` order (None if unusable)."""
    import ml
    from ml.pipeline import predict_examples

    try:
        old = ml_bridge.load_model(active.label_set.name, active.artifact_path)
        if old.encoders == config.encoders:
            probs = predict_examples(old, examples, config)
        else:
            probs = ml.predict(old, [e.image for e in examples], [e.text for e in examples])
        return probs[:, [old.classes.index(c) for c in classes]]
    except Exception as exc:  # an unloadable active model is not worth keeping
        echo(
            f"the active model {active.version} cannot be evaluated ({exc}); treating it as absent"
        )
        return None


def _retrain(run: RetrainRun, echo, progress_bars: bool) -> None:
    from ml.data import Example
    from ml.evaluation import compute_metrics, summary
    from ml.gate import GateConfig, evaluate_gate
    from ml.pipeline import PipelineConfig, data_fingerprint, evaluate_on, train_model
    from ml.registry import save_model
    from ml.selection import SelectionConfig
    from ml.training import duplicate_groups

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
            image=m.image,
            text=m.text,
            label=m.label,
            image_sha256=m.sha256,
            key=str(m.meme_id),
            alt_text=m.alt_text,
        )
        for m in memes
    ]
    selection = SelectionConfig(
        candidates=tuple(settings.ML_CANDIDATES),
        **({"keras_epochs": run.epochs} if run.epochs else {}),
    )
    config = PipelineConfig(
        label_set=label_set.name,
        classes=tuple(classes),
        selection=selection,
        feature_cache=str(settings.ML_FEATURE_CACHE),
        progress=progress_bars,
    )
    y = np.array([classes.index(e.label) for e in examples])
    # Reposts of one picture (its repost cluster) stay on one side of every split.
    clusters = memes_cluster_ids(meme_ids=[m.meme_id for m in memes])
    groups = duplicate_groups(examples, extra=[clusters.get(m.meme_id) for m in memes])
    gate = _gate_split(examples, groups, y, len(classes))
    rest, held = np.flatnonzero(~gate), np.flatnonzero(gate)
    train_part = [examples[i] for i in rest]
    gate_part = [examples[i] for i in held]
    run.counts.update({"train_and_validation": len(rest), "gate": len(held)})
    echo(f"gate split: {len(held)} memes; training on {len(rest)}")
    model = train_model(
        train_part,
        config,
        groups[rest],
        callback=lambda stage, done, total: _progress(run, stage, done, total),
    )
    clock.lap("features and model selection")
    echo(f"selected {model.manifest['chosen']}: {model.manifest['selection']['why']}")
    _progress(run, "evaluating", 0, 0)
    report, plots, new_probs = evaluate_on(model, train_part, gate_part, config)
    new_metrics = report["test"]

    active = classifier_selectors.model_version_active(label_set=label_set)
    active_probs = None
    if active is not None:
        active_probs = _active_probabilities(active, gate_part, classes, config, echo)
    gate_config = GateConfig(
        margin=settings.GATE_MARGIN,
        min_per_class=settings.GATE_MIN_PER_CLASS,
        resamples=settings.GATE_RESAMPLES,
    )
    verdict = evaluate_gate(
        y[held],
        new_probs,
        classes,
        probs_active=active_probs,
        active_name=active.version if active_probs is not None else "",
        y_train=y[rest],
        config=gate_config,
    )
    run.compared_with = active
    run.gate_metrics = {
        "new": summary(new_metrics),
        "active": (
            summary(compute_metrics(y[held], active_probs, classes))
            if active_probs is not None
            else None
        ),
        "gate": verdict,
    }
    report["gate_comparison"] = run.gate_metrics
    promote, decision = promotion_decision(gate=verdict, promote=run.promote, force=run.force)
    clock.lap("evaluating both models, the baselines and the gate")
    _progress(run, "saving", 0, 0)
    info = {
        "metrics": summary(new_metrics),
        "parent": active.version if active else None,
        "data_fingerprint": data_fingerprint(examples),
        "training_counts": run.counts,
        "trained_by": f"retrain ({run.trigger})",
        "chosen": model.manifest["chosen"],
    }
    path = save_model(
        model, Path(settings.ML_MODEL_ROOT), report=report, extra_files=plots, info=info
    )
    with transaction.atomic():
        version = model_version_register(
            label_set=label_set,
            version=model.version,
            artifact_path=str(path),
            metrics={**summary(new_metrics), "chosen": model.manifest["chosen"], "gate": verdict},
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
