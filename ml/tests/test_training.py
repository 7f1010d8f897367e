import numpy as np
import pytest

from ml import Example, evaluate, train
from ml.data import read_labelled_csv
from ml.training import TrainConfig, duplicate_groups, group_split, tune_prior_shift

from .conftest import make_rule_dataset


@pytest.fixture(scope="module")
def rule_examples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rule")
    csv_path = make_rule_dataset(folder, 120)
    examples, problems = read_labelled_csv(csv_path, folder / "images", "label")
    assert not problems
    return examples


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> str:
    # Features are keyed by content hash: the module's tests train on the same memes, so
    # they share one cache and each encodes only what no earlier test did.
    return str(tmp_path_factory.mktemp("features"))


def config(**kw):
    kw = {"epochs": 15, **kw}
    return TrainConfig(label_set="temperature", classes=("warm", "cool"), learning_rate=1e-3, **kw)


def test_it_learns_a_visual_rule_and_beats_chance_on_held_out_memes(rule_examples, cache):
    train_part, held_out = rule_examples[:80], rule_examples[80:]
    model = train(train_part, config(feature_cache=cache))
    metrics = evaluate(model, held_out, feature_cache=cache)
    assert metrics["macro_f1"] > 0.9
    assert metrics["auroc"] > 0.95
    assert model.manifest["history"], "per-epoch history is recorded"
    assert {"loss", "val_loss", "val_macro_f1"} <= set(model.manifest["history"][0])


def test_training_is_reproducible_with_a_seed(rule_examples, cache):
    a = train(rule_examples[:60], config(feature_cache=cache, seed=7))
    b = train(rule_examples[:60], config(feature_cache=cache, seed=7))
    assert a.head_onnx == b.head_onnx


def test_it_refuses_labels_outside_the_label_set(rule_examples):
    bad = [*rule_examples[:10], Example(image=rule_examples[0].image, text="x", label="lukewarm")]
    with pytest.raises(ValueError, match="lukewarm"):
        train(bad, config())


def test_duplicates_stay_on_one_side_of_a_split(rule_examples):
    examples = list(rule_examples[:40])
    # Same image bytes with another caption, and another image with the same caption.
    examples.append(
        Example(image=examples[0].image, text="something else", label=examples[0].label)
    )
    examples.append(
        Example(image=examples[5].image, text=examples[1].text, label=examples[1].label)
    )
    groups = duplicate_groups(examples)
    assert groups[40] == groups[0]
    assert groups[41] == groups[1] == groups[5]
    y = np.array([e.label == "warm" for e in examples], dtype=int)
    for seed in range(5):
        train_idx, test_idx = group_split(y, groups, 0.25, seed)
        assert not set(groups[train_idx]) & set(groups[test_idx])


def test_prior_shift_raises_macro_f1_when_the_model_favours_one_class():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    # Informative scores, but shifted so that nearly everything is class 0.
    logits = np.stack([np.zeros(400), y * 2.0 + rng.normal(0, 1, 400) - 3.0], axis=1)
    from sklearn.metrics import f1_score

    before = f1_score(y, logits.argmax(1), average="macro")
    shift = tune_prior_shift(y, logits)
    after = f1_score(y, (logits + shift).argmax(1), average="macro")
    assert after > before + 0.2


def test_temperature_scaling_lowers_calibration_error_on_held_out_memes():
    """Overconfident logits (a head overfitted to noisy labels) are corrected by the temperature.

    Synthetic logits stand in for a trained head (that took 140 s on 2 cores): what is under
    test is the fit on validation data and its effect on unseen data, not Keras.
    """
    from ml.metrics import expected_calibration_error
    from ml.model import softmax
    from ml.training import fit_temperature

    rng = np.random.default_rng(0)
    n = 2000
    y = rng.integers(0, 2, n)
    noisy = np.where(rng.random(n) < 0.3, 1 - y, y)  # 30% wrong, as in real moderation data
    # The head separates the classes it was shown, four times too sharply for 70% accuracy.
    signal = np.where(y == 1, 1.0, -1.0) + rng.normal(0, 0.6, n)
    logits = np.stack([-2 * signal, 2 * signal], axis=1).astype(np.float32)
    val, held = slice(0, 1000), slice(1000, n)
    temperature = fit_temperature(noisy[val], logits[val])
    assert temperature > 1.0  # overconfident: scaled down
    raw = softmax(logits[held])
    calibrated = softmax(logits[held] / temperature)
    assert expected_calibration_error(noisy[held], calibrated) < 0.5 * expected_calibration_error(
        noisy[held], raw
    )
    assert (calibrated.argmax(1) == raw.argmax(1)).all()  # labels never change
