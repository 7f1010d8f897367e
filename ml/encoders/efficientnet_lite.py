"""EfficientNet-Lite image encoder rebuilt as an ONNX graph from its .pth weights.

Mirrors `efficientnet_lite_pytorch` (lukemelas' EfficientNet-PyTorch with the
Lite changes): ReLU6 everywhere, no squeeze-and-excitation, stem and head not
scaled, TensorFlow 'SAME' padding (extra padding at the end, which is ONNX's
SAME_UPPER). Batch norms are folded into the convolutions. Never swap ReLU6 for
swish: the weights were trained with ReLU6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx

from .onnx_graph import GraphBuilder, name_output, tensor_input

# (repeats, kernel, stride, expand ratio, input filters, output filters)
_BASE_BLOCKS = [
    (1, 3, 1, 1, 32, 16),
    (2, 3, 2, 6, 16, 24),
    (2, 5, 2, 6, 24, 40),
    (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112),
    (4, 5, 2, 6, 112, 192),
    (1, 3, 1, 6, 192, 320),
]
BN_EPS = 1e-3


@dataclass(frozen=True)
class LiteVariant:
    name: str
    width: float
    depth: float
    image_size: int


VARIANTS = {
    "lite0": LiteVariant("lite0", 1.0, 1.0, 224),
    "lite1": LiteVariant("lite1", 1.0, 1.1, 240),
    "lite2": LiteVariant("lite2", 1.1, 1.2, 260),
}


def _round_filters(filters: int, width: float) -> int:
    if width == 1.0:
        return filters
    scaled = filters * width
    new = max(8, int(scaled + 4) // 8 * 8)
    if new < 0.9 * scaled:
        new += 8
    return int(new)


def block_plan(variant: LiteVariant) -> list[tuple[int, int, int, int, int]]:
    """Return (kernel, stride, expand, in, out) for every MBConv block in order."""
    plan = []
    last = len(_BASE_BLOCKS) - 1
    for i, (repeats, k, s, e, fin, fout) in enumerate(_BASE_BLOCKS):
        fin, fout = _round_filters(fin, variant.width), _round_filters(fout, variant.width)
        if i in (0, last):
            if i == 0:
                fin = 32
        else:
            repeats = int(math.ceil(variant.depth * repeats))
        plan.append((k, s, e, fin, fout))
        plan.extend((k, 1, e, fout, fout) for _ in range(repeats - 1))
    return plan


def _fold_bn(weight: np.ndarray, state: dict, bn: str) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta = state[f"{bn}.weight"], state[f"{bn}.bias"]
    mean, var = state[f"{bn}.running_mean"], state[f"{bn}.running_var"]
    scale = gamma / np.sqrt(var + BN_EPS)
    folded = weight * scale.reshape(-1, *([1] * (weight.ndim - 1)))
    return folded.astype(np.float32), (beta - mean * scale).astype(np.float32)


def _conv_bn(g: GraphBuilder, x: str, state, conv: str, bn: str, stride=1, groups=1, act=True):
    weight, bias = _fold_bn(state[f"{conv}.weight"], state, bn)
    k = weight.shape[-1]
    y = g.op(
        "Conv",
        [x, g.const(weight), g.const(bias)],
        kernel_shape=[k, k],
        strides=[stride, stride],
        group=groups,
        auto_pad="SAME_UPPER",
    )
    if act:
        y = g.op("Clip", [y, g.const(np.float32(0.0)), g.const(np.float32(6.0))])
    return y


def build_graph(state: dict[str, np.ndarray], variant: LiteVariant) -> onnx.ModelProto:
    """Build the encoder: uint8-range RGB NHWC pixels in, pooled features out.

    Outputs `features` (N, 1280) and `logits` (N, 1000) when the checkpoint
    carries the ImageNet classifier (used to check the port).
    """
    g = GraphBuilder(f"efficientnet_{variant.name}")
    size = variant.image_size
    x = g.op("Transpose", ["pixels"], perm=[0, 3, 1, 2])
    x = g.op("Sub", [x, g.const(np.float32(127.0))])
    x = g.op("Div", [x, g.const(np.float32(128.0))])
    x = _conv_bn(g, x, state, "_conv_stem", "_bn0", stride=2)
    for i, (_k, stride, expand, fin, fout) in enumerate(block_plan(variant)):
        p = f"_blocks.{i}"
        h = x
        if expand != 1:
            h = _conv_bn(g, h, state, f"{p}._expand_conv", f"{p}._bn0")
        channels = state[f"{p}._depthwise_conv.weight"].shape[0]
        h = _conv_bn(g, h, state, f"{p}._depthwise_conv", f"{p}._bn1", stride, channels)
        h = _conv_bn(g, h, state, f"{p}._project_conv", f"{p}._bn2", act=False)
        if stride == 1 and fin == fout:
            h = g.op("Add", [h, x])
        x = h
    if f"_blocks.{len(block_plan(variant))}._depthwise_conv.weight" in state:
        raise ValueError(f"checkpoint has more blocks than EfficientNet-{variant.name}")
    x = _conv_bn(g, x, state, "_conv_head", "_bn1")
    pooled = g.op("GlobalAveragePool", [x])
    features = g.op("Flatten", [pooled], axis=1)
    outputs = [name_output(g, features, "features")]
    dims = state["_conv_head.weight"].shape[0]
    value_infos = [tensor_input("features", np.float32, ["N", dims])]
    if "_fc.weight" in state:
        w = state["_fc.weight"].T.astype(np.float32)
        logits = g.op("Gemm", [features, g.const(w), g.const(state["_fc.bias"])])
        outputs.append(name_output(g, logits, "logits"))
        value_infos.append(tensor_input("logits", np.float32, ["N", w.shape[1]]))
    pixels = tensor_input("pixels", np.float32, ["N", size, size, 3])
    return g.build([pixels], value_infos)
