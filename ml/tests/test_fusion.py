import numpy as np
import pytest

from ml.encoders import EncoderConfig
from ml.fusion import HeadConfig, create_fusion_head, export_head_onnx
from ml.model import FusionModel, softmax


@pytest.fixture(scope="module")
def head():
    rng = np.random.default_rng(0)
    stats_i = (rng.normal(size=12).astype(np.float32), rng.uniform(0.5, 2, 12).astype(np.float32))
    stats_t = (rng.normal(size=6).astype(np.float32), rng.uniform(0.5, 2, 6).astype(np.float32))
    return (
        create_fusion_head(12, 6, 3, HeadConfig(branch_units=8, fused_units=4), stats_i, stats_t),
        stats_i,
        stats_t,
    )


def served(keras_head):
    return FusionModel(
        "x",
        ["a", "b", "c"],
        EncoderConfig(),
        export_head_onnx(keras_head).SerializeToString(),
        np.zeros(3, np.float32),
    )


def test_the_head_concatenates_two_branches_into_a_softmax(head):
    model, _, _ = head
    names = [layer.name for layer in model.layers]
    assert {"image_dense", "text_dense", "fusion", "fused_dense", "output"} <= set(names)
    out = model.predict([np.zeros((2, 12)), np.zeros((2, 6))], verbose=0)
    assert out.shape == (2, 3)
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5)


def test_the_onnx_export_serves_the_same_probabilities_as_keras(head):
    model, _, _ = head
    rng = np.random.default_rng(1)
    img, txt = (
        rng.normal(size=(5, 12)).astype(np.float32),
        rng.normal(size=(5, 6)).astype(np.float32),
    )
    expected = model.predict([img, txt], verbose=0)
    assert np.allclose(served(model).probabilities_from_features(img, txt), expected, atol=1e-5)


def test_masking_a_modality_equals_feeding_its_training_mean(head):
    model, stats_i, _ = head
    rng = np.random.default_rng(2)
    img, txt = (
        rng.normal(size=(4, 12)).astype(np.float32),
        rng.normal(size=(4, 6)).astype(np.float32),
    )
    masked = served(model).probabilities_from_features(img, txt, image_mask=np.zeros(4))
    expected = model.predict([np.tile(stats_i[0], (4, 1)), txt], verbose=0)
    assert np.allclose(masked, expected, atol=1e-5)


def test_a_prior_shift_moves_the_decision_consistently(head):
    model, _, _ = head
    m = served(model)
    rng = np.random.default_rng(3)
    img, txt = (
        rng.normal(size=(50, 12)).astype(np.float32),
        rng.normal(size=(50, 6)).astype(np.float32),
    )
    m.log_prior_shift = np.array([0, 0, 5.0], np.float32)
    probs = m.probabilities_from_features(img, txt)
    assert (probs.argmax(axis=1) == 2).mean() > 0.9
    assert np.allclose(probs, softmax(m.head_logits(img, txt) + m.log_prior_shift))
