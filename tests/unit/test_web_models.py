"""The page's web models: plain ONNX graphs of the torch networks, run by onnxruntime against them.

The torch modules keep their speed tricks (channels-last padded buffers written in place, float64
statistics); the graphs are the same maths as plain operators. Float32 graphs must agree with the
modules to float rounding; the float16 files the page downloads must keep the look (PSNR bounds
well above what an eye can tell apart), and the manifest must describe the files exactly.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import torch

from stylemixer.neural.export import (
    DEFAULT_DTYPES,
    MANIFEST,
    MAX_TOTAL_BYTES,
    WEB_FILES,
    export_web_models,
    multistyle_features_graph,
    multistyle_graph,
    predictor_graph,
    same_pads,
    transformer_features_graph,
    transformer_graph,
    web_graphs,
)
from stylemixer.neural.weights import load_networks, sha256
from stylemixer.presets import NUM_PRESETS, PRESETS, get_preset
from tests.support.onnx_reference import psnr, resized, square
from tests.support.pictures import sample_painting_file, sample_photo_file

if TYPE_CHECKING:
    from pathlib import Path

    from stylemixer.neural.weights import Networks

ort = pytest.importorskip("onnxruntime", reason="onnxruntime (a dev dependency) runs the exported graphs")


@pytest.fixture(scope="module")
def nets(weights_path: Path) -> Networks:
    return load_networks(weights_path, threads=2)


def run(model: Any, **inputs: np.ndarray) -> np.ndarray:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return sess.run(None, {k: v.astype(np.float32) for k, v in inputs.items()})[0]


def nchw(picture: np.ndarray) -> np.ndarray:
    return picture.transpose(2, 0, 1)[None].copy()


def torch_out(module: Any, *args: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return module(*(torch.from_numpy(a) for a in args)).numpy()


def test_same_padding_is_tensorflows() -> None:
    # Stride 2 pads more at the end when the total is odd; stride 1 is symmetric
    assert same_pads(256, 3, 2) == (0, 1)
    assert same_pads(128, 3, 1) == (1, 1)
    assert same_pads(7, 3, 2) == (1, 1)
    assert same_pads(16, 1, 1) == (0, 0)


@pytest.mark.parametrize(("photo", "size"), [("rocket", (384, 256)), ("astronaut", (300, 300))])
def test_multistyle_graph_is_the_torch_network(nets: Networks, photo: str, size: tuple[int, int]) -> None:
    # Given a photo and a blend of two presets
    x = nchw(resized(sample_photo_file(photo), *size))
    weights = np.zeros((1, NUM_PRESETS), dtype=np.float32)
    weights[0, get_preset("swirling-night").index] = 0.7
    weights[0, get_preset("grey-ink").index] = 0.3

    # When the float32 graphs (the first convolution, then the rest) and the torch module paint it
    features = run(multistyle_features_graph(nets.multistyle, "float32"), image=x)
    graph = run(multistyle_graph(nets.multistyle, "float32"), features=features, style=weights)
    module = torch_out(nets.multistyle, x, weights)

    # Then they agree to float rounding
    assert graph.shape == module.shape == x.shape
    assert np.abs(graph - module).max() < 2e-4


def test_predictor_graph_is_the_torch_network(nets: Networks) -> None:
    picture = nchw(square(sample_painting_file("scarlet-blaze"), 256))

    graph = run(predictor_graph(nets.predictor, "float32"), image=picture)
    module = torch_out(nets.predictor, picture)

    assert graph.shape == (1, 100)
    assert np.abs(graph - module).max() < 1e-4 * np.abs(module).max()


def test_transformer_graph_is_the_torch_network(nets: Networks) -> None:
    x = nchw(resized(sample_photo_file("coffee"), 384, 268))
    vector = torch_out(nets.predictor, nchw(square(sample_painting_file("indigo-brush"), 256)))

    features = run(transformer_features_graph(nets.transformer, "float32"), image=x)
    graph = run(transformer_graph(nets.transformer, "float32"), features=features, style=vector)
    module = torch_out(nets.transformer, x, vector)

    assert features.shape == (1, 32, 268 // 4, 384 // 4)
    assert np.abs(graph - module).max() < 2e-4


@pytest.mark.parametrize("style", ["scarlet-blaze", "grey-ink"])
def test_float16_files_keep_the_look(nets: Networks, style: str) -> None:
    # Given the graphs as the page downloads them (float16 weights)
    graphs = web_graphs(nets)
    assert {m.graph.name for m in graphs.values()} == set(WEB_FILES)
    x = nchw(resized(sample_photo_file("rocket"), 384, 256))
    picture = nchw(square(sample_painting_file(style), 256))
    preset = np.eye(NUM_PRESETS, dtype=np.float32)[[get_preset("scarlet-blaze").index]]

    # When a preset and a painting go through them and through the float32 torch modules
    painted = run(graphs["multistyle"], features=run(graphs["multistyle_features"], image=x), style=preset)
    vector = run(graphs["predictor"], image=picture)
    arbitrary = run(
        graphs["transformer"], features=run(graphs["transformer_features"], image=x), style=vector
    )

    # Then the pictures match far beyond what an eye can tell (the preview's own bound is 30 dB)
    def as_bytes(a: np.ndarray) -> np.ndarray:
        return np.round(np.clip(a, 0, 1) * 255) / 255

    assert psnr(as_bytes(painted), as_bytes(torch_out(nets.multistyle, x, preset))) > 55
    reference = torch_out(nets.transformer, x, torch_out(nets.predictor, picture))
    assert psnr(as_bytes(arbitrary), as_bytes(reference)) > 40


def test_export_writes_the_files_and_a_manifest_that_describes_them(
    weights_path: Path, tmp_path: Path
) -> None:
    # When the web models are exported
    manifest = export_web_models(tmp_path, weights_path)

    # Then each file is there, with the size and sha256 the manifest gives
    on_disk = json.loads((tmp_path / MANIFEST).read_text(encoding="utf-8"))
    assert on_disk == manifest
    for name, entry in manifest["models"].items():
        data = (tmp_path / entry["file"]).read_bytes()
        assert entry["file"] == WEB_FILES[name]
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["weights"] == DEFAULT_DTYPES[name]
    # And together they fit the page's budget (float16 halves the float32 networks' 11 MB)
    assert manifest["total_bytes"] == sum(e["bytes"] for e in manifest["models"].values())
    assert manifest["total_bytes"] <= MAX_TOTAL_BYTES
    assert manifest["total_bytes"] < 6_000_000
    # And the licence of the weights and the weight file they come from are named
    assert manifest["licence"]["weights"] == "Apache-2.0"
    assert manifest["source"]["weights_sha256"] == sha256(weights_path)
    # And the page can map preset ids to the network's rows
    assert manifest["presets"] == [p.id for p in sorted(PRESETS, key=lambda p: p.index)]
    # And nothing else was left in the folder (no temporary files)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MANIFEST, *WEB_FILES.values()])


def test_export_is_reproducible(weights_path: Path, tmp_path: Path) -> None:
    # Two exports of the same weights give the same bytes, so a deployment changes only when they do
    first = export_web_models(tmp_path / "a", weights_path)
    second = export_web_models(tmp_path / "b", weights_path)
    assert first == second


def test_export_refuses_models_over_the_budget(
    weights_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("stylemixer.neural.export.MAX_TOTAL_BYTES", 1_000_000)
    with pytest.raises(ValueError, match="more than 1000000"):
        export_web_models(tmp_path, weights_path)
