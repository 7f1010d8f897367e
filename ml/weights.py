"""Read pretrained weights into numpy arrays without importing torch.

Serving must not import torch, and the pretrained encoders ship as PyTorch
checkpoints (`.pth`, `pytorch_model.bin`) or safetensors inside pip packages.
A PyTorch checkpoint is a pickle whose tensors point at raw storages: either
appended to the pickle stream (the legacy format, torch < 1.6) or stored as
files in a zip archive (the current format). Both are read here with a
restricted unpickler that only knows how to rebuild tensors and ordered dicts.
"""

from __future__ import annotations

import collections
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class WeightsError(ValueError):
    """A weights file is missing, corrupt or of an unknown format."""


@dataclass(frozen=True)
class _StorageType:
    dtype: type


@dataclass
class _TensorRef:
    key: str
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage, storage_offset, size, stride, *_args):
    key, _dtype = storage
    return _TensorRef(key, int(storage_offset), tuple(size), tuple(stride))


def _rebuild_parameter(data, *_args):
    return data


class _CheckpointUnpickler(pickle.Unpickler):
    """Rebuilds tensor references and nothing else (no arbitrary code)."""

    def __init__(self, file, storages: dict):
        super().__init__(file)
        self._storages = storages

    def find_class(self, module, name):
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return _rebuild_parameter
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise WeightsError(f"checkpoint refers to {module}.{name}, which is not a plain tensor")

    def persistent_load(self, saved_id):
        # ('storage', storage_type, key, location, numel[, view_metadata])
        if not isinstance(saved_id, tuple) or saved_id[0] != "storage":
            raise WeightsError(f"unexpected persistent id {saved_id!r}")
        storage_type, key, numel = saved_id[1], str(saved_id[2]), int(saved_id[4])
        self._storages.setdefault(key, (storage_type.dtype, numel))
        return key, storage_type.dtype


def _materialise(state, buffers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for name, ref in state.items():
        if not isinstance(ref, _TensorRef):
            continue
        base = buffers[ref.key]
        itemsize = base.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            base[ref.offset :],
            shape=ref.shape,
            strides=tuple(s * itemsize for s in ref.stride),
        )
        out[name] = np.array(view)  # copy: detach from the shared storage
    return out


def _load_legacy(path: Path) -> dict[str, np.ndarray]:
    storages: dict = {}
    with open(path, "rb") as f:
        for _ in range(3):  # magic number, protocol version, sys info
            pickle.load(f)
        state = _CheckpointUnpickler(f, storages).load()
        keys = pickle.load(f)
        buffers = {}
        for key in keys:
            dtype, numel = storages[str(key)]
            (count,) = struct.unpack("<q", f.read(8))
            if count != numel:
                raise WeightsError(f"{path}: storage {key} has {count} elements, expected {numel}")
            raw = f.read(count * np.dtype(dtype).itemsize)
            if len(raw) != count * np.dtype(dtype).itemsize:
                raise WeightsError(f"{path}: file ends inside storage {key}")
            buffers[str(key)] = np.frombuffer(raw, dtype=dtype)
    return _materialise(state, buffers)


def _load_zip(path: Path) -> dict[str, np.ndarray]:
    storages: dict = {}
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        pkl = next((n for n in names if n.endswith("/data.pkl") or n == "data.pkl"), None)
        if pkl is None:
            raise WeightsError(f"{path}: zip checkpoint without data.pkl")
        prefix = pkl[: -len("data.pkl")]
        with zf.open(pkl) as f:
            state = _CheckpointUnpickler(f, storages).load()
        buffers = {
            key: np.frombuffer(zf.read(f"{prefix}data/{key}"), dtype=dtype)[:numel]
            for key, (dtype, numel) in storages.items()
        }
    return _materialise(state, buffers)


def load_torch_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """Return the state dict of a PyTorch checkpoint as numpy arrays."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path}")
    try:
        state = _load_zip(path) if zipfile.is_zipfile(path) else _load_legacy(path)
    except WeightsError:
        raise
    except Exception as exc:  # pickle, struct and zip errors all mean "corrupt"
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint ({exc})") from exc
    if "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not state:
        raise WeightsError(f"{path}: checkpoint holds no tensors")
    return state


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    """Load a safetensors file or a PyTorch checkpoint into numpy arrays."""
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.numpy import load_file

        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
        try:
            return load_file(str(path))
        except Exception as exc:
            raise WeightsError(f"{path}: not a readable safetensors file ({exc})") from exc
    return load_torch_checkpoint(path)
