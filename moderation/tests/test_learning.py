"""The learning loop: import labelled data, retrain, gate, promote, roll back, reclassify."""

import csv
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from classifier.models import LabelSet, Meme, ModelVersion, Prediction
from ml.tests.conftest import make_rule_dataset
from moderation.learning.imports import dataset_import
from moderation.learning.retrain import (
    labelled_memes,
    promotion_decision,
    retrain_enqueue,
    retrain_run_create,
    retrain_run_execute,
)
from moderation.learning.versions import memes_without_human_label, reclassify
from moderation.models import LabelCorrection, RetrainRun
from moderation.services import correction_create

RULE_MAP = "warm=positive,cool=negative"


@pytest.fixture(scope="module")
def feature_cache(tmp_path_factory):
    # Features are keyed by content hash: the module's tests share the memes, so they
    # share one cache and each encodes only what no earlier test did.
    return tmp_path_factory.mktemp("features")


@pytest.fixture
def learning_settings(settings, tmp_path, feature_cache):
    settings.ML_MODEL_ROOT = tmp_path / "models"
    settings.ML_FEATURE_CACHE = feature_cache
    # Choosing among all candidates is covered by ml/tests/test_selection.py; here the rule
    # is visual, so two (the one that sees it, one that cannot) keep a real choice in the
    # loop, and each other candidate would only make every retrain slower.
    settings.ML_CANDIDATES = ["image_logreg", "lexical_logreg"]
    return settings


@pytest.fixture(scope="module")
def rule_data(tmp_path_factory):
    """Memes whose label follows a visual rule, in Memotion's CSV layout (label column 'label')."""
    folder = tmp_path_factory.mktemp("rule")
    return folder, make_rule_dataset(folder, 120, seed=3)


def write_rows(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_rows(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def import_rule(rule_data, tmp_path, n, label_set="sentiment", **kw):
    folder, csv_path = rule_data
    subset = write_rows(tmp_path / f"first{n}.csv", read_rows(csv_path)[:n])
    return dataset_import(
        csv_path=subset,
        images_dir=folder / "images",
        label_set_name=label_set,
        label_column="label",
        text_column="text_corrected",
        label_map={"warm": "positive", "cool": "negative"},
        **kw,
    )


def test_it_imports_a_memotion_shaped_csv_and_reports_bad_rows(
    db, sentiment, rule_data, tmp_path, capsys
):
    folder, csv_path = rule_data
    rows = read_rows(csv_path)[:6]
    (folder / "images" / "broken.jpg").write_bytes(b"GIF89a not really")
    rows += [
        {**rows[0], "image_name": "nowhere.png"},
        {**rows[0], "image_name": "broken.jpg"},
        {**rows[1], "image_name": rows[1]["image_name"], "label": "lukewarm"},
    ]
    path = write_rows(tmp_path / "in.csv", rows)
    args = [
        "--csv",
        str(path),
        "--images",
        str(folder / "images"),
        "--label-set",
        "sentiment",
        "--label-column",
        "label",
        "--text-column",
        "text_corrected",
        "--map",
        RULE_MAP,
    ]
    call_command("import_dataset", *args, verbosity=0)
    out = capsys.readouterr().out
    assert "imported 6, duplicate 0, missing image 1, unreadable 1, unmapped 1" in out
    corrections = LabelCorrection.objects.filter(source=LabelCorrection.Source.IMPORT)
    assert corrections.count() == 6
    first = Meme.objects.get(original_name=rows[0]["image_name"]).corrections.get()
    assert first.new_label == ("positive" if rows[0]["label"] == "warm" else "negative")
    assert first.new_text == rows[0]["text_corrected"] and first.text_changed
    assert first.moderator is None

    call_command("import_dataset", *args, verbosity=0)
    assert "imported 0, duplicate 6" in capsys.readouterr().out
    assert LabelCorrection.objects.count() == 6


def test_it_imports_any_csv_of_the_same_shape_with_other_column_names(
    db, rule_data, tmp_path, capsys
):
    folder, csv_path = rule_data
    rows = [
        {"file": r["image_name"], "words": r["text_corrected"], "verdict": r["label"]}
        for r in read_rows(csv_path)[:5]
    ]
    path = write_rows(tmp_path / "other.csv", rows)
    call_command(
        "import_dataset",
        "--csv",
        str(path),
        "--images",
        str(folder / "images"),
        "--label-set",
        "temperature",
        "--label-column",
        "verdict",
        "--text-column",
        "words",
        "--image-column",
        "file",
        "--create-label-set",
        verbosity=0,
    )
    assert "imported 5" in capsys.readouterr().out
    assert sorted(LabelSet.objects.get(name="temperature").classes) == ["cool", "warm"]


def test_an_unknown_label_set_or_column_is_a_clear_error(db, rule_data):
    folder, csv_path = rule_data
    with pytest.raises(CommandError, match="--create-label-set"):
        call_command(
            "import_dataset",
            "--csv",
            str(csv_path),
            "--images",
            str(folder / "images"),
            "--label-set",
            "nope",
            "--label-column",
            "label",
            verbosity=0,
        )
    with pytest.raises(CommandError, match="no column 'verdict'"):
        call_command(
            "import_dataset",
            "--csv",
            str(csv_path),
            "--images",
            str(folder / "images"),
            "--label-set",
            "sentiment",
            "--label-column",
            "verdict",
            verbosity=0,
        )


def test_a_moderator_correction_changes_the_next_training_data(
    db, sentiment, rule_data, tmp_path, staff_user
):
    import_rule(rule_data, tmp_path, 6)
    before = {m.meme_id: (m.label, m.text) for m in labelled_memes(label_set=sentiment)}
    meme = Meme.objects.order_by("pk").first()
    latest = meme.corrections.get()
    flipped = "negative" if latest.new_label == "positive" else "positive"
    correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=staff_user,
        new_label=flipped,
        new_text="A CORRECTED CAPTION",
        seen_correction_id=latest.pk,
        seen_text_correction_id=latest.pk,
    )
    after = {m.meme_id: (m.label, m.text) for m in labelled_memes(label_set=sentiment)}
    assert after[meme.pk] == (flipped, "A CORRECTED CAPTION")
    assert before[meme.pk] != after[meme.pk]
    assert {k: v for k, v in after.items() if k != meme.pk} == {
        k: v for k, v in before.items() if k != meme.pk
    }
    correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=staff_user,
        unusable=True,
        seen_correction_id=meme.corrections.order_by("-id").first().pk,
    )
    assert meme.pk not in {m.meme_id for m in labelled_memes(label_set=sentiment)}


@pytest.mark.model
def test_retrain_learns_a_rule_from_imported_labels_and_beats_chance(
    db, active_model, rule_data, tmp_path, learning_settings, capsys
):
    import ml

    # The gate of 80 memes holds ~8 per class: enough for this easy rule, below the default.
    learning_settings.GATE_MIN_PER_CLASS = 5

    folder, csv_path = rule_data
    import_rule(rule_data, tmp_path, 80)
    call_command("retrain", "--label-set", "sentiment", "--epochs", "15", verbosity=0)
    out = capsys.readouterr().out
    assert "gate split" in out and "decision:" in out and "(95%)" in out
    run = RetrainRun.objects.get()
    gate = run.gate_metrics["gate"]
    assert gate["approved"] and gate["sufficient"] and gate["f1_ci"][0] <= gate["f1_diff"]
    assert run.new_version.metrics["gate"] == gate
    assert run.status == RetrainRun.Status.SUCCEEDED
    assert run.compared_with == active_model
    assert run.gate_metrics["new"]["macro_f1"] is not None
    assert run.gate_metrics["active"]["macro_f1"] is not None
    # The rule is easy; the shipped sentiment model knows nothing of it.
    assert run.promoted, run.decision
    new = ModelVersion.objects.get(is_active=True, label_set__name="sentiment")
    assert new == run.new_version and new.parent == active_model
    assert new.metrics["macro_f1"] > 0.8

    held_out = read_rows(csv_path)[80:]
    model = ml.load_model(Path(learning_settings.ML_MODEL_ROOT) / new.version)
    probs = ml.predict(
        model,
        [folder / "images" / r["image_name"] for r in held_out],
        [r["text_corrected"] for r in held_out],
    )
    truth = ["positive" if r["label"] == "warm" else "negative" for r in held_out]
    predicted = [model.classes[i] for i in probs.argmax(axis=1)]
    accuracy = np.mean([p == t for p, t in zip(predicted, truth, strict=True)])
    assert accuracy > 0.85  # chance is 0.5

    # --yes: neither version need be gate-approved, and a command without a terminal asks
    # for it then (test_promotion.py).
    call_command("rollback", "--label-set", "sentiment", "--yes", verbosity=0)
    assert ModelVersion.objects.get(is_active=True, label_set__name="sentiment") == active_model
    call_command("promote", new.version, "--yes", verbosity=0)
    assert ModelVersion.objects.get(is_active=True, label_set__name="sentiment") == new


@pytest.mark.model
def test_no_promote_keeps_the_active_model(
    db, active_model, rule_data, tmp_path, learning_settings
):
    import_rule(rule_data, tmp_path, 40)
    call_command("retrain", "--no-promote", "--epochs", "3", verbosity=0)
    run = RetrainRun.objects.get()
    assert not run.promoted and "--no-promote" in run.decision
    assert ModelVersion.objects.get(is_active=True) == active_model
    assert ModelVersion.objects.count() == 2


def test_the_gate_verdict_decides_unless_forced_or_held_back():
    approved = {"approved": True, "reason": "not worse", "against": "v1"}
    refused = {"approved": False, "reason": "may be worse", "against": "v1"}
    assert promotion_decision(gate=approved, promote=True, force=False)[0]
    kept, why = promotion_decision(gate=refused, promote=True, force=False)
    assert not kept and why.startswith("kept v1")
    assert promotion_decision(gate=refused, promote=True, force=True)[0]
    assert not promotion_decision(gate=approved, promote=False, force=True)[0]


def test_a_first_model_for_a_new_label_set(db, rule_data, tmp_path, learning_settings):
    learning_settings.GATE_MIN_PER_CLASS = 8
    folder, csv_path = rule_data
    dataset_import(
        csv_path=csv_path,
        images_dir=folder / "images",
        label_set_name="temperature",
        label_column="label",
        create_label_set=True,
    )
    run = retrain_run_execute(
        run=retrain_run_create(label_set=LabelSet.objects.get(name="temperature"), epochs=10)
    )
    assert run.status == RetrainRun.Status.SUCCEEDED, run.error
    assert run.promoted and "first model" in run.decision and "beats both" in run.decision
    assert run.new_version.is_active


def test_a_tiny_gate_never_promotes_automatically(db, rule_data, tmp_path, learning_settings):
    folder, csv_path = rule_data
    dataset_import(
        csv_path=csv_path,
        images_dir=folder / "images",
        label_set_name="temperature",
        label_column="label",
        create_label_set=True,
    )
    run = retrain_run_execute(
        run=retrain_run_create(label_set=LabelSet.objects.get(name="temperature"), epochs=3)
    )
    assert run.status == RetrainRun.Status.SUCCEEDED, run.error
    gate = run.gate_metrics["gate"]
    # 120 labels give a gate of about 12 memes per class, below the default 30.
    assert not gate["sufficient"] and not gate["approved"] and not run.promoted
    assert "gate too small" in run.decision and "of 30" in run.decision
    assert not run.new_version.is_active


def test_too_few_labels_fail_cleanly_and_leave_the_active_model(
    db, active_model, rule_data, tmp_path, learning_settings
):
    import_rule(rule_data, tmp_path, 3)
    with pytest.raises(CommandError, match="Cannot retrain sentiment yet"):
        call_command("retrain", verbosity=0)
    # Refused before anything was recorded (the sentence itself: test_readiness.py).
    assert not RetrainRun.objects.exists()
    assert ModelVersion.objects.get(is_active=True) == active_model
    assert ModelVersion.objects.count() == 1


def test_a_crash_while_saving_leaves_the_active_model(
    db, active_model, rule_data, tmp_path, learning_settings
):
    import_rule(rule_data, tmp_path, 30)
    learning_settings.RETRAIN_MIN_LABELS_PER_CLASS = 15  # 15 of each class: train, then crash
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the model folder should go")
    learning_settings.ML_MODEL_ROOT = blocker
    run = retrain_run_execute(run=retrain_run_create(label_set=active_model.label_set, epochs=2))
    assert run.status == RetrainRun.Status.FAILED and run.error
    assert ModelVersion.objects.get(is_active=True) == active_model
    assert ModelVersion.objects.count() == 1


def test_rollback_without_an_earlier_version_is_an_error(db, active_model):
    with pytest.raises(CommandError, match="no earlier active version"):
        call_command("rollback", "--label-set", "sentiment", verbosity=0)


def test_promote_refuses_a_corrupt_version(db, active_model, tmp_path):
    broken = ModelVersion.objects.create(
        label_set=active_model.label_set, version="broken", artifact_path=str(tmp_path / "missing")
    )
    with pytest.raises(CommandError, match="cannot be promoted"):
        call_command("promote", "broken", verbosity=0)
    assert not ModelVersion.objects.get(pk=broken.pk).is_active


def test_models_lists_versions_and_marks_the_active_one(db, active_model, capsys):
    call_command("models", verbosity=0)
    line = next(x for x in capsys.readouterr().out.splitlines() if active_model.version in x)
    assert line.startswith("*")


@pytest.mark.model
def test_reclassify_adds_predictions_only_to_memes_without_a_human_label(
    db, active_model, meme_factory, staff_user
):
    memes = [meme_factory(top=f"MEME {i}") for i in range(3)]
    Meme.objects.filter(pk__in=[m.pk for m in memes]).update(status=Meme.Status.CLASSIFIED)
    correction_create(
        meme=memes[0], label_set=active_model.label_set, moderator=staff_user, new_label="positive"
    )
    assert set(memes_without_human_label(label_set=active_model.label_set)) == set(memes[1:])
    assert reclassify(label_set=active_model.label_set) == 2
    assert Prediction.objects.filter(meme=memes[0]).count() == 0
    assert Prediction.objects.filter(meme__in=memes[1:], model_version=active_model).count() == 2


def test_retrain_from_the_dashboard_runs_as_a_task_with_progress(
    db, rule_data, tmp_path, learning_settings, django_capture_on_commit_callbacks
):
    folder, csv_path = rule_data
    dataset_import(
        csv_path=csv_path,
        images_dir=folder / "images",
        label_set_name="temperature",
        label_column="label",
        create_label_set=True,
    )
    label_set = LabelSet.objects.get(name="temperature")
    with django_capture_on_commit_callbacks(execute=True):
        run = retrain_enqueue(label_set=label_set)
    run.refresh_from_db()
    assert run.trigger == "dashboard"
    assert run.status == RetrainRun.Status.SUCCEEDED, run.error
    assert run.stage == "saving" and run.new_version is not None


def test_the_dashboard_button_queues_one_retrain_and_shows_its_outcome(
    db, mod_client, sentiment, version, learning_settings
):
    learning_settings.RETRAIN_MIN_LABELS_PER_CLASS = 0  # queued only: nothing trains here
    url = f"/moderation/retrain/?label_set={sentiment.name}"
    response = mod_client.post(url)
    assert response.status_code == 302
    run = RetrainRun.objects.get()
    assert run.status == RetrainRun.Status.QUEUED and run.trigger == "dashboard"
    mod_client.post(url)
    assert RetrainRun.objects.count() == 1  # a second click while queued adds nothing

    run.status, run.stage, run.done, run.total = RetrainRun.Status.RUNNING, "training", 3, 20
    run.save()
    page = mod_client.get(f"/moderation/?label_set={sentiment.name}").content.decode()
    assert "Running: training 15%" in page
    assert "data-reload-after" in page  # the page reloads itself (static/js/site.js)

    run.status, run.promoted, run.decision = RetrainRun.Status.SUCCEEDED, False, "kept v1: worse"
    run.gate_metrics = {
        "new": {"macro_f1": 0.41, "auroc": 0.5},
        "active": {"macro_f1": 0.52, "auroc": 0.6},
    }
    run.compared_with = version
    run.save()
    page = mod_client.get(f"/moderation/?label_set={sentiment.name}").content.decode()
    assert "kept v1: worse" in page and "0.41" in page and "0.52" in page
    assert "window.location.reload" not in page
