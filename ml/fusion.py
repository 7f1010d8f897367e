"""The Keras fusion head and its export to ONNX for serving.

Per the original design: image features and text features, each through a
dense layer, concatenated, dense layers with dropout, softmax. The encoders
are frozen and run outside the head (their features are cached), so the head
trains in seconds. Keras trains it; serving runs the same weights in
onnxruntime, because importing TensorFlow costs a worker ~6 s and ~600 MB.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import onnx

from .encoders.onnx_graph import GraphBuilder, name_output, tensor_input


@dataclass(frozen=True)
class HeadConfig:
    branch_units: int = 256
    fused_units: int = 128
    input_dropout: float = 0.2
    dropout: float = 0.5
    # Probability of blanking a whole modality for a training sample, so that
    # a meme with no text (or an uninformative image) is in-distribution and
    # per-modality explanations can mask a branch.
    modality_dropout: float = 0.15
    # L2 penalty on the dense kernels; raised when examples are few (see ml.selection).
    l2: float = 0.0

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> HeadConfig:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def create_fusion_head(
    image_dim: int,
    text_dim: int,
    n_classes: int,
    config: HeadConfig,
    image_stats: tuple[np.ndarray, np.ndarray],
    text_stats: tuple[np.ndarray, np.ndarray],
):
    """Build the head. `*_stats` are (mean, variance) of the training features."""
    import keras
    from keras import layers

    from .keras_parts import ModalityDropout

    reg = keras.regularizers.L2(config.l2) if config.l2 > 0 else None

    def branch(name: str, dim: int, stats):
        inp = keras.Input(shape=(dim,), name=name)
        x = layers.Normalization(mean=stats[0], variance=stats[1], name=f"{name}_norm")(inp)
        x = ModalityDropout(config.modality_dropout, name=f"{name}_modality_dropout")(x)
        x = layers.Dropout(config.input_dropout, name=f"{name}_dropout")(x)
        x = layers.Dense(
            config.branch_units, activation="relu", kernel_regularizer=reg, name=f"{name}_dense"
        )(x)
        return inp, x

    image_in, image_x = branch("image", image_dim, image_stats)
    text_in, text_x = branch("text", text_dim, text_stats)
    x = layers.Concatenate(name="fusion")([image_x, text_x])
    x = layers.Dropout(config.dropout, name="fusion_dropout")(x)
    x = layers.Dense(
        config.fused_units, activation="relu", kernel_regularizer=reg, name="fused_dense"
    )(x)
    x = layers.Dropout(config.dropout, name="fused_dropout")(x)
    out = layers.Dense(n_classes, activation="softmax", name="output")(x)
    return keras.Model([image_in, text_in], out, name="fusion_head")


def export_head_onnx(model) -> onnx.ModelProto:
    """Write the trained head as an ONNX graph (dropout is inactive at inference).

    The inputs take an extra per-sample mask for each modality (1 keeps it,
    0 replaces it by the training mean), which explanations use.
    """
    g = GraphBuilder("fusion_head")
    logits = emit_fusion_head(g, model)
    name_output(g, logits, "logits")
    dims = {
        name: model.get_layer(f"{name}_dense").get_weights()[0].shape[0]
        for name in ("image", "text")
    }
    inputs = []
    for name in ("image", "text"):
        inputs += [
            tensor_input(name, np.float32, ["N", dims[name]]),
            tensor_input(f"{name}_mask", np.float32, ["N", 1]),
        ]
    n_classes = model.get_layer("output").get_weights()[0].shape[1]
    return g.build(inputs, [tensor_input("logits", np.float32, ["N", n_classes])])


def emit_fusion_head(g: GraphBuilder, model) -> str:
    """Add the trained head to graph `g` (inputs image, text, image_mask, text_mask); its logits."""
    weights = {layer.name: [np.asarray(w) for w in layer.get_weights()] for layer in model.layers}
    branches = []
    for name in ("image", "text"):
        mean, var = _norm_stats(model.get_layer(f"{name}_norm"))
        x = g.op("Sub", [name, g.const(mean)])
        # Keras' Normalization divides by max(sqrt(variance), epsilon).
        x = g.op("Div", [x, g.const(np.maximum(np.sqrt(var), 1e-7).astype(np.float32))])
        x = g.op("Mul", [x, f"{name}_mask"])
        kernel, bias = weights[f"{name}_dense"]
        x = g.op("Relu", [g.op("Gemm", [x, g.const(kernel), g.const(bias)])])
        branches.append(x)
    x = g.op("Concat", branches, axis=1)
    kernel, bias = weights["fused_dense"]
    x = g.op("Relu", [g.op("Gemm", [x, g.const(kernel), g.const(bias)])])
    kernel, bias = weights["output"]
    return g.op("Gemm", [x, g.const(kernel), g.const(bias)])


def _norm_stats(layer) -> tuple[np.ndarray, np.ndarray]:
    mean = np.asarray(layer.mean, dtype=np.float32).reshape(-1)
    var = np.asarray(layer.variance, dtype=np.float32).reshape(-1)
    return mean, var
