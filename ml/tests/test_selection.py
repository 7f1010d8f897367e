"""Model selection picks the model that reads what carries the label, and serves it as ONNX."""

import numpy as np
import pytest

from ml.data import read_labelled_csv
from ml.pipeline import PipelineConfig, features, predict_examples, train_model
from ml.selection import SelectionConfig

from .conftest import make_rule_dataset

NO_KERAS = ("image_logreg", "text_logreg", "features_logreg", "lexical_logreg", "stack")


def rule_examples(folder, rule, n=100, seed=0):
    csv_path = make_rule_dataset(folder, n, seed=seed, rule=rule)
    examples, problems = read_labelled_csv(csv_path, folder / "images", "label")
    assert not problems
    return examples


def config(cache, candidates=NO_KERAS, **kw):
    return PipelineConfig(
        label_set="temperature",
        classes=("warm", "cool"),
        selection=SelectionConfig(candidates=candidates, n_splits=3, **kw),
        feature_cache=str(cache),
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One model per rule, trained once for the module (each costs a CV over candidates)."""
    out = {}
    for rule in ("image", "text", "both"):
        folder = tmp_path_factory.mktemp(rule)
        examples = rule_examples(folder, rule, n=120 if rule == "both" else 60)
        cfg = config(folder / "cache")
        out[rule] = (train_model(examples, cfg), examples, cfg)
    return out


def test_it_picks_the_lexical_model_when_the_label_is_a_word(trained):
    model, _, _ = trained["text"]
    selection = model.manifest["selection"]
    assert model.manifest["chosen"] == "lexical_logreg", selection["why"]
    assert selection["candidates"]["lexical_logreg"]["macro_f1_mean"] > 0.9
    assert selection["candidates"]["image_logreg"]["macro_f1_mean"] < 0.75
    assert model.lexical is not None


def test_it_picks_an_image_model_when_the_label_is_a_property_of_the_picture(trained):
    model, _, _ = trained["image"]
    selection = model.manifest["selection"]
    assert model.manifest["chosen"] == "image_logreg", selection["why"]
    assert selection["candidates"]["lexical_logreg"]["macro_f1_mean"] < 0.75
    assert model.lexical is None


def test_it_fuses_when_both_the_picture_and_the_words_matter(trained):
    model, _, _ = trained["both"]
    selection = model.manifest["selection"]
    assert model.manifest["chosen"] in {"stack", "features_logreg"}, selection["why"]
    cands = selection["candidates"]
    best_single = max(cands[n]["macro_f1_mean"] for n in ("image_logreg", "lexical_logreg"))
    assert cands[model.manifest["chosen"]]["macro_f1_mean"] > best_single + 0.1


def test_every_candidate_reports_its_cross_validated_mean_and_spread(trained):
    selection = trained["both"][0].manifest["selection"]
    assert selection["n_splits"] == 3 and selection["grouped"]
    assert set(selection["candidates"]) == set(NO_KERAS)
    for summary in selection["candidates"].values():
        assert len(summary["folds"]) == 3
        assert summary["macro_f1_sd"] is not None and summary["auroc_mean"] is not None
    # C is chosen inside each training fold, so it is recorded per fold.
    assert len(selection["candidates"]["image_logreg"]["params_per_fold"]) == 3


def test_the_served_onnx_graph_gives_the_probabilities_training_scored(trained):
    model, examples, cfg = trained["both"]
    probs = predict_examples(model, examples[:20], cfg)
    assert probs.shape == (20, 2)
    assert np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    accuracy = np.mean(
        [model.classes[i] for i in probs.argmax(1)] == np.array([e.label for e in examples[:20]])
    )
    assert accuracy > 0.8


def test_it_trains_on_a_few_labels_without_crashing(tmp_path):
    examples = rule_examples(tmp_path, "image", n=30)
    few = [e for e in examples if e.label == "warm"][:12] + [
        e for e in examples if e.label == "cool"
    ][:2]
    model = train_model(few, config(tmp_path / "cache"))
    # Two memes of a class allow two grouped folds, not the three asked for.
    assert model.manifest["selection"]["n_splits"] == 2
    # A stack over so few labels learns noise (docs/benchmarks.md): it is not a candidate.
    assert "stack" in model.manifest["selection"]["skipped"]
    two = [e for e in examples if e.label == "warm"][:5] + [
        e for e in examples if e.label == "cool"
    ][:1]
    model = train_model(two, config(tmp_path / "cache"))
    assert model.manifest["selection"]["n_splits"] == 0
    assert "too few" in model.manifest["selection"]["why"]


def test_the_transcription_is_an_extra_training_row_never_scored(tmp_path):
    examples = rule_examples(tmp_path, "text", n=30)
    for e in examples:
        e.alt_text, e.text = e.text, ""  # OCR read nothing; a human transcribed it
    model = train_model(examples, config(tmp_path / "cache", candidates=("lexical_logreg",)))
    rows = model.manifest["selection"]["rows"]
    assert rows == {"served": 30, "augmentation": 30}
    # Scored on the served (empty) text only: the transcription cannot leak into the score.
    assert model.manifest["selection"]["candidates"]["lexical_logreg"]["macro_f1_mean"] < 0.8


def test_the_keras_candidate_is_sized_for_the_data_and_served_as_onnx(tmp_path):
    from ml.selection import keras_size

    assert keras_size(100).branch_units < keras_size(3000).branch_units
    assert keras_size(100).l2 > keras_size(3000).l2
    examples = rule_examples(tmp_path, "image", n=70)
    cfg = PipelineConfig(
        label_set="temperature",
        classes=("warm", "cool"),
        selection=SelectionConfig(candidates=("keras_fusion",), n_splits=2, keras_epochs=3),
        feature_cache=str(tmp_path / "cache"),
    )
    model = train_model(examples, cfg)
    assert model.manifest["chosen"] == "keras_fusion"
    params = model.manifest["selection"]["candidates"]["keras_fusion"]["params_per_fold"]
    assert params[0]["branch_units"] == keras_size(35).branch_units and params[0]["l2"] > 0
    img, txt = features(examples, cfg)
    keras_probs = model.keras_head.predict([img, txt], verbose=0)
    onnx_logits = model.head_logits(img, txt)
    onnx_probs = np.exp(onnx_logits) / np.exp(onnx_logits).sum(axis=1, keepdims=True)
    assert np.allclose(keras_probs, onnx_probs, atol=1e-4)


def test_an_unknown_candidate_is_a_clear_error():
    from ml.selection import Rows, select

    rows = Rows(
        np.zeros((4, 2)),
        np.zeros((4, 2)),
        [""] * 4,
        np.array([0, 1, 0, 1]),
        np.arange(4),
        np.ones(4, bool),
    )
    with pytest.raises(ValueError, match="unknown model candidates \\['nope'\\]"):
        select(rows, 2, SelectionConfig(candidates=("image_logreg", "nope")))
