"""The int8 detector: built from the wheel's model on first use, cached, and reading the
words the float32 detector reads on real memes."""

from pathlib import Path

import onnx
import pytest
from PIL import Image

from ml.ocr import int8
from ml.ocr.rapid import RapidOcrEngine
from ml.ocr_cache import engine_key
from ml.tests.test_ocr_real_memes import REAL, transcriptions, word_recall


def detector_file(engine: RapidOcrEngine) -> Path:
    return Path(engine._det.session.session._model_path)


def test_it_is_built_once_into_the_cache_and_then_loaded_from_it(no_network, tmp_path, monkeypatch):
    cache = tmp_path / "ocr"
    monkeypatch.setenv("ML_OCR_CACHE", str(cache))  # and built offline
    first = RapidOcrEngine()
    built = list(cache.glob("*.onnx"))
    assert len(built) == 1 and detector_file(first) == built[0]
    ops = {node.op_type for node in onnx.load(str(built[0])).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops  # really int8, not a copy
    stamp = built[0].stat().st_mtime_ns
    second = RapidOcrEngine()
    assert detector_file(second) == built[0] and built[0].stat().st_mtime_ns == stamp
    assert list(cache.iterdir()) == built  # no scratch files left behind
    # Float32 when asked, from the wheel itself; the OCR text cache keeps their texts apart.
    float32 = RapidOcrEngine(det_int8=False)
    assert detector_file(float32).parent != cache
    assert (first.det_int8, float32.det_int8) == (True, False)
    assert engine_key(first) != engine_key(float32)


def six_convolutions(path: Path) -> Path:
    """A small real convolutional model with dynamic height and width, like the detector."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, weights, previous, channels = [], [], "x", 3
    for i in range(6):
        out = 1 if i == 5 else 4
        weight = rng.normal(0, 0.3, (out, channels, 3, 3)).astype(np.float32)
        weights.append(numpy_helper.from_array(weight, f"w{i}"))
        conv = helper.make_node("Conv", [previous, f"w{i}"], [f"c{i}"], f"conv{i}", pads=[1] * 4)
        nodes.append(conv)
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"y{i}"]))
        previous, channels = f"y{i}", out
    graph = helper.make_graph(
        nodes,
        "six",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, "h", "w"])],
        [helper.make_tensor_value_info(previous, TensorProto.FLOAT, [1, 1, "h", "w"])],
        weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def test_an_unwritable_cache_builds_in_a_folder_of_its_own(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ML_OCR_CACHE", str(blocker / "ocr"))
    source = six_convolutions(tmp_path / "six.onnx")

    def preprocess(bgr):
        return (bgr.astype("float32") / 255).transpose(2, 0, 1)[None]

    built = int8.int8_detector(source, preprocess)
    assert built.is_file() and blocker not in built.parents
    ops = [node.op_type for node in onnx.load(str(built)).graph.node]
    # The middle convolution in int8; the first and the last four stay float32.
    assert ops.count("Conv") == 6 and "QuantizeLinear" in ops


def test_the_calibration_images_are_the_same_every_time():
    first, second = int8.calibration_images(3), int8.calibration_images(3)
    assert [image.tobytes() for image in first] == [image.tobytes() for image in second]


@pytest.mark.skipif(not REAL.is_dir(), reason="religious_hateful is not on this machine")
def test_it_reads_the_words_the_float32_detector_reads_on_platform_sized_memes():
    # The first 8 memes of 480 px and more: the size int8 is used for.
    names = [
        name
        for name in sorted(transcriptions())
        if max(Image.open(REAL / "images" / name).size) >= 480
    ][:8]
    int8_recall = word_recall(RapidOcrEngine(), names)
    float32_recall = word_recall(RapidOcrEngine(det_int8=False), names)
    # Measured on 400 memes: 0.913 and 0.929 for int8, 0.913 and 0.926 for float32
    # (docs/benchmarks.md).
    assert int8_recall >= float32_recall - 0.02, (int8_recall, float32_recall)
