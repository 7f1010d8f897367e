"""BERT-family text encoder rebuilt as an ONNX graph from Hugging Face weights.

Covers all-MiniLM-L6-v2 (the default, a 6-layer 384-d BERT) and the seed's
bert-base-uncased: both are plain BERT encoders, so one builder reads either
from a local folder (config.json + model.safetensors or pytorch_model.bin).
Tokenisation uses the `tokenizers` WordPiece implementation that
transformers' BertTokenizerFast wraps, without importing transformers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

from ..weights import WeightsError, load_weights
from .onnx_graph import GraphBuilder, name_output, tensor_input


@dataclass(frozen=True)
class BertShape:
    hidden: int
    layers: int
    heads: int
    eps: float

    @classmethod
    def from_config(cls, config: dict) -> BertShape:
        if config.get("hidden_act", "gelu") != "gelu":
            raise WeightsError(f"unsupported activation {config['hidden_act']!r}")
        return cls(
            hidden=int(config["hidden_size"]),
            layers=int(config["num_hidden_layers"]),
            heads=int(config["num_attention_heads"]),
            eps=float(config.get("layer_norm_eps", 1e-12)),
        )


def weights_file(folder: str | Path) -> Path:
    """The weights of a Hugging Face BERT folder (config.json checked too)."""
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise WeightsError(f"{folder}: no config.json (expected a Hugging Face BERT folder)")
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (folder / name).is_file():
            return folder / name
    raise WeightsError(f"{folder}: neither model.safetensors nor pytorch_model.bin")


def read_bert_folder(folder: str | Path) -> tuple[BertShape, dict[str, np.ndarray]]:
    """Read config and weights of a Hugging Face BERT folder into numpy."""
    folder = Path(folder)
    path = weights_file(folder)
    shape = BertShape.from_config(json.loads((folder / "config.json").read_text()))
    state = load_weights(path)
    # Checkpoints saved from BertForPreTraining carry a "bert." prefix.
    state = {k.removeprefix("bert."): v for k, v in state.items()}
    return shape, state


def _linear(g: GraphBuilder, x: str, state, name: str) -> str:
    w = state[f"{name}.weight"].T.astype(np.float32)
    y = g.op("MatMul", [x, g.const(w)])
    return g.op("Add", [y, g.const(state[f"{name}.bias"].astype(np.float32))])


def _layer_norm(g: GraphBuilder, x: str, state, name: str, eps: float) -> str:
    return g.op(
        "LayerNormalization",
        [x, g.const(state[f"{name}.weight"]), g.const(state[f"{name}.bias"])],
        axis=-1,
        epsilon=eps,
    )


def _gelu(g: GraphBuilder, x: str) -> str:
    scaled = g.op("Div", [x, g.const(np.float32(np.sqrt(2.0)))])
    erf = g.op("Erf", [scaled])
    one_plus = g.op("Add", [erf, g.const(np.float32(1.0))])
    half_x = g.op("Mul", [x, g.const(np.float32(0.5))])
    return g.op("Mul", [half_x, one_plus])


def _attention(g: GraphBuilder, x: str, mask_bias: str, state, p: str, shape: BertShape):
    head_dim = shape.hidden // shape.heads
    split = g.const(np.array([0, 0, shape.heads, head_dim], dtype=np.int64))

    def heads(name: str, perm: list[int]) -> str:
        y = g.op("Reshape", [_linear(g, x, state, name), split])
        return g.op("Transpose", [y], perm=perm)

    q = heads(f"{p}.attention.self.query", [0, 2, 1, 3])
    k = heads(f"{p}.attention.self.key", [0, 2, 3, 1])
    v = heads(f"{p}.attention.self.value", [0, 2, 1, 3])
    scores = g.op("Div", [g.op("MatMul", [q, k]), g.const(np.float32(np.sqrt(head_dim)))])
    probs = g.op("Softmax", [g.op("Add", [scores, mask_bias])], axis=-1)
    ctx = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
    merge = g.const(np.array([0, 0, shape.hidden], dtype=np.int64))
    return g.op("Reshape", [ctx, merge])


def build_graph(shape: BertShape, state: dict[str, np.ndarray], normalize: bool) -> onnx.ModelProto:
    """Token ids and attention mask in, mean-pooled sentence embedding out."""
    g = GraphBuilder("bert_encoder")
    words = g.op("Gather", [g.const(state["embeddings.word_embeddings.weight"]), "input_ids"])
    length = g.op("Shape", ["input_ids"], start=1, end=2)
    zero = g.const(np.array([0], dtype=np.int64))
    positions = g.op(
        "Slice", [g.const(state["embeddings.position_embeddings.weight"]), zero, length, zero]
    )
    token_type = g.const(state["embeddings.token_type_embeddings.weight"][0])
    x = g.op("Add", [g.op("Add", [words, positions]), token_type])
    x = _layer_norm(g, x, state, "embeddings.LayerNorm", shape.eps)

    mask = g.op("Cast", ["attention_mask"], to=onnx.TensorProto.FLOAT)
    axes = g.const(np.array([1, 2], dtype=np.int64))
    mask4 = g.op("Unsqueeze", [mask, axes])  # (N, 1, 1, L)
    inverted = g.op("Sub", [g.const(np.float32(1.0)), mask4])
    mask_bias = g.op("Mul", [inverted, g.const(np.float32(-1e9))])

    for i in range(shape.layers):
        p = f"encoder.layer.{i}"
        attn = _linear(
            g, _attention(g, x, mask_bias, state, p, shape), state, f"{p}.attention.output.dense"
        )
        x = _layer_norm(
            g, g.op("Add", [x, attn]), state, f"{p}.attention.output.LayerNorm", shape.eps
        )
        inter = _gelu(g, _linear(g, x, state, f"{p}.intermediate.dense"))
        out = _linear(g, inter, state, f"{p}.output.dense")
        x = _layer_norm(g, g.op("Add", [x, out]), state, f"{p}.output.LayerNorm", shape.eps)

    mask3 = g.op("Unsqueeze", [mask, g.const(np.array([2], dtype=np.int64))])  # (N, L, 1)
    summed = g.op(
        "ReduceSum", [g.op("Mul", [x, mask3]), g.const(np.array([1], dtype=np.int64))], keepdims=0
    )
    count = g.op("ReduceSum", [mask3, g.const(np.array([1], dtype=np.int64))], keepdims=0)
    pooled = g.op("Div", [summed, g.op("Max", [count, g.const(np.float32(1e-9))])])
    if normalize:
        norm = g.op("ReduceL2", [pooled], axes=[1], keepdims=1)  # opset 17: axes is an attribute
        pooled = g.op("Div", [pooled, g.op("Max", [norm, g.const(np.float32(1e-12))])])
    name_output(g, pooled, "embeddings")
    inputs = [
        tensor_input("input_ids", np.int64, ["N", "L"]),
        tensor_input("attention_mask", np.int64, ["N", "L"]),
    ]
    return g.build(inputs, [tensor_input("embeddings", np.float32, ["N", shape.hidden])])


def load_tokenizer(folder: str | Path, max_length: int):
    """The BERT WordPiece tokenizer of a model folder, truncating and padding."""
    from tokenizers import Tokenizer
    from tokenizers.implementations import BertWordPieceTokenizer

    folder = Path(folder)
    if (folder / "tokenizer.json").is_file():
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    elif (folder / "vocab.txt").is_file():
        tokenizer = BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True)
    else:
        raise WeightsError(f"{folder}: neither tokenizer.json nor vocab.txt")
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer
