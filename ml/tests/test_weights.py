import shutil
from pathlib import Path

import numpy as np
import pytest

from ml.encoders import _packaged_efficientnet
from ml.weights import WeightsError, load_torch_checkpoint, load_weights


def test_it_reads_the_legacy_pth_without_torch():
    state = load_torch_checkpoint(_packaged_efficientnet("lite0"))
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_conv_stem.weight"].dtype == np.float32
    assert np.isfinite(state["_blocks.15._project_conv.weight"]).all()


def test_it_refuses_a_truncated_checkpoint(tmp_path):
    src = _packaged_efficientnet("lite0")
    broken = tmp_path / "broken.pth"
    broken.write_bytes(Path(src).read_bytes()[:5_000_000])
    with pytest.raises(WeightsError):
        load_torch_checkpoint(broken)


def test_it_refuses_a_missing_file(tmp_path):
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "nope.safetensors")


def test_it_refuses_a_pickle_that_runs_code(tmp_path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (shutil.rmtree, ("/nonexistent",))

    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        for header in (0x1950A86A20F9469CFC6C, 1001, {}):
            pickle.dump(header, f)
        pickle.dump(Evil(), f)
    with pytest.raises(WeightsError):
        load_torch_checkpoint(path)
