import pytest

from ml import train
from ml.data import read_labelled_csv
from ml.explain import MAX_PIECES, _pieces, explain
from ml.training import TrainConfig

from .conftest import make_rule_dataset


def trained(tmp_path_factory, rule):
    folder = tmp_path_factory.mktemp(rule)
    csv_path = make_rule_dataset(folder, 120, seed=5, rule=rule)
    examples, _ = read_labelled_csv(csv_path, folder / "images", "label")
    config = TrainConfig(label_set="t", classes=("warm", "cool"), epochs=20, learning_rate=1e-3)
    return train(examples[:100], config), examples[100:]


@pytest.fixture(scope="module")
def image_rule(tmp_path_factory):
    return trained(tmp_path_factory, "image")


@pytest.fixture(scope="module")
def text_rule(tmp_path_factory):
    return trained(tmp_path_factory, "text")


def test_the_image_decides_when_the_label_follows_the_picture(image_rule):
    model, held = image_rule
    decided = 0
    for ex in held:
        e = explain(model, ex.image, ex.text)
        assert e.label == ex.label
        decided += e.deciding == "image"
        # Masking the image (text only) loses most of the confidence; masking the text does not.
        assert e.text_only < e.probability - 0.15
        assert abs(e.image_effect) > abs(e.text_effect)
    assert decided >= len(held) * 0.8


def test_the_text_decides_and_names_the_word_when_the_label_follows_the_caption(text_rule):
    model, held = text_rule
    named = 0
    for ex in held:
        e = explain(model, ex.image, ex.text)
        assert e.label == ex.label
        assert abs(e.text_effect) > abs(e.image_effect)
        assert e.image_only < e.probability - 0.15
        named += e.words[0][0] in ("sunshine", "snowstorm")
    assert named >= len(held) * 0.8


def test_it_occludes_single_words_and_every_occurrence_of_each():
    pieces = dict(_pieces("When the tests pass, the TESTS pass!"))
    assert list(pieces) == ["When", "the", "tests", "pass"]  # one word each, no chunks
    assert pieces["tests"] == "When the pass, the pass!"
    assert _pieces("") == []


def test_long_captions_occlude_a_bounded_number_of_their_longest_words():
    text = " ".join(["a", "an", "of"] * 30 + [f"word{i:02d}" for i in range(40)])
    pieces = _pieces(text)
    assert len(pieces) == MAX_PIECES
    assert all(" " not in word and word.startswith("word") for word, _ in pieces)


def test_the_explanation_is_on_the_prediction_s_scale(text_rule):
    from ml.explain import classify_and_explain

    model, held = text_rule
    result, e = classify_and_explain(model, held[0].image, held[0].text)
    assert e.calibrated
    assert e.label == result.label
    assert e.probability == pytest.approx(result.probabilities[result.label], abs=1e-5)


def test_a_meme_without_text_is_explained_by_its_image(image_rule):
    model, held = image_rule
    e = explain(model, held[0].image, "")
    assert e.words == []
    assert e.to_dict()["deciding"] in ("image", "text", "both")


def test_a_modality_that_pulled_against_the_label_did_not_decide_it():
    from ml.explain import deciding_modality

    # The image pulled the label's probability down by 0.028, the text pushed it up by 0.008.
    assert deciding_modality(image_effect=-0.028, text_effect=0.008) == "text"
    assert deciding_modality(image_effect=0.30, text_effect=0.05) == "image"
    assert deciding_modality(image_effect=0.10, text_effect=0.08) == "both"
    assert deciding_modality(image_effect=-0.1, text_effect=-0.1) == "both"
