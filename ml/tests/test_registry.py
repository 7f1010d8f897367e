import json

import numpy as np
import pytest

from ml import ModelError, list_versions, load_model, predict, save_model
from ml.encoders import EncoderConfig
from ml.fusion import HeadConfig, create_fusion_head, export_head_onnx
from ml.model import FusionModel


@pytest.fixture(scope="module")
def model():
    stats_i = (np.zeros(1280, np.float32), np.ones(1280, np.float32))
    stats_t = (np.zeros(384, np.float32), np.ones(384, np.float32))
    head = create_fusion_head(
        1280, 384, 2, HeadConfig(branch_units=4, fused_units=4), stats_i, stats_t
    )
    m = FusionModel(
        "sentiment",
        ["positive", "negative"],
        EncoderConfig(),
        export_head_onnx(head).SerializeToString(),
        np.array([0, 0.3], np.float32),
    )
    m.keras_head = head
    return m


def test_a_saved_version_loads_and_predicts_the_same(model, tmp_path, photos):
    path = save_model(
        model,
        tmp_path,
        "sentiment-test",
        keras_head=model.keras_head,
        report={"test": {"macro_f1": 0.5}},
        info={"parent": None},
    )
    loaded = load_model(path)
    assert loaded.version == "sentiment-test"
    assert loaded.classes == ["positive", "negative"]
    images, texts = [photos["china"]], ["hello"]
    assert np.allclose(predict(loaded, images, texts), predict(model, images, texts), atol=1e-6)
    manifest = json.loads((path / "manifest.json").read_text())
    assert set(manifest["files"]) >= {"head.onnx", "head.keras", "metrics.json"}


def test_a_corrupt_file_is_refused(model, tmp_path):
    path = save_model(model, tmp_path, "v1")
    head = path / "head.onnx"
    data = bytearray(head.read_bytes())
    data[100] ^= 0xFF
    head.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="checksum"):
        load_model(path)


def test_a_folder_without_manifest_is_refused(model, tmp_path):
    path = save_model(model, tmp_path, "v1")
    (path / "manifest.json").unlink()
    with pytest.raises(ModelError, match="partial"):
        load_model(path)


def test_a_failed_write_leaves_nothing_behind(model, tmp_path):
    class Exploding:
        def save(self, path):
            raise OSError("disk full")

    root = tmp_path / "models"
    with pytest.raises(OSError):
        save_model(model, root, "v2", keras_head=Exploding())
    assert list(root.iterdir()) == []


def test_list_versions_skips_partial_and_hidden_folders(model, tmp_path):
    root = tmp_path / "models"
    save_model(model, root, "good")
    (root / "half").mkdir()
    (root / ".good.tmp123").mkdir()
    assert [m["version"] for m in list_versions(root)] == ["good"]


def test_an_existing_version_is_never_overwritten(model, tmp_path):
    save_model(model, tmp_path, "v1")
    with pytest.raises(ModelError, match="exists"):
        save_model(model, tmp_path, "v1")
