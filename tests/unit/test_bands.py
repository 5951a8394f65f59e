"""Full resolution in bands: the one-pass picture, no seams, bounded memory, per-band progress."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from PIL import Image

from stylemixer.neural.bands import BandPlan, paint_in_bands
from stylemixer.neural.engine import Engine
from stylemixer.neural.tensors import map_rows
from stylemixer.options import StylizeOptions
from stylemixer.resources import WORKER_MALLOC_ARENA_MAX
from stylemixer.styles import ImageStyle, PresetStyle
from tests.support.environment import run_python
from tests.support.pictures import sample_painting, sample_photo

PRESET = 16  # swirling-night
#: The preset alone, as multistyle26's bands take styles: one row of preset weights, weight 1.
ALONE = (torch.eye(26)[[PRESET]], torch.ones(1))


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _photo(name: str, side: int) -> Image.Image:
    return sample_photo(name).resize((side, side), Image.Resampling.LANCZOS)


def _whole(out: torch.Tensor) -> np.ndarray:
    return out[0].clamp(0, 1).mul(255).add(0.5).to(torch.uint8).permute(1, 2, 0).numpy()


def _as_inputs(img: Image.Image) -> tuple[torch.Tensor, torch.Tensor]:
    u8 = torch.from_numpy(np.array(img))  # (H, W, 3) uint8
    return u8, u8.permute(2, 0, 1).unsqueeze(0).float().div(255.0)


@pytest.fixture(scope="module")
def photo_1536() -> Image.Image:
    return _photo("astronaut", 1536)


@pytest.fixture(scope="module")
def preset_pair(engine, photo_1536) -> tuple[np.ndarray, np.ndarray, int]:
    """multistyle26 on a real 1536 x 1536 photo: one whole pass, and in 256-row bands."""
    u8, x = _as_inputs(photo_1536)
    weights = torch.zeros(26)
    weights[PRESET] = 1.0
    rows = 256
    with torch.inference_mode():
        whole = _whole(engine.networks.multistyle(x, weights))
        banded = paint_in_bands(engine.networks.multistyle, u8, *ALONE, plan=BandPlan(rows))
    return whole, banded, rows


def test_bands_match_one_whole_pass_at_1536(preset_pair) -> None:
    # Given a 1536 x 1536 photo painted in one pass and in six bands (statistics of the whole picture)
    whole, banded, _ = preset_pair
    # Then the two agree far beyond what the eye can tell
    assert banded.shape == whole.shape
    assert _psnr(banded, whole) >= 35.0


@pytest.mark.parametrize("keep_rows", [None, 512, 640], ids=["default-plan-keeps-all", "top-512", "top-640"])
def test_bands_that_keep_the_first_layer_match_one_whole_pass(
    engine, photo_1536, preset_pair, keep_rows: int | None
) -> None:
    # Given bands that keep the first layer's output between its statistics sweep and the bands
    # (half precision) instead of computing it twice: the default plan for 1536 x 1536 keeps all of
    # it; a larger picture's plan keeps the top rows only, ending on a band edge (512) or inside a
    # band (640, so that band mixes kept and new rows)
    whole, exact_bands, rows = preset_pair
    if keep_rows is None:
        plan = BandPlan.for_size(1536, 1536)
        assert plan.keep_rows == 1536
    else:
        plan = BandPlan(rows, torch.float16, keep_rows=keep_rows)
    u8, _ = _as_inputs(photo_1536)
    with torch.inference_mode():
        banded = paint_in_bands(engine.networks.multistyle, u8, *ALONE, plan=plan)
    # Then it paints the whole pass's picture, and differs from the exact bands by a grey level at most
    assert _psnr(banded, whole) >= 35.0
    assert np.abs(banded.astype(np.int16) - exact_bands).max() <= 2


def test_bands_with_the_residual_stage_in_bands_match_one_whole_pass(engine, photo_1536, preset_pair) -> None:
    # Given bands whose quarter-resolution stage runs in bands of 64 rows too, its maps kept in half
    # precision (what a 24 to 50 MP photo's plan does: there the whole stage would crowd the budget)
    whole, exact_bands, rows = preset_pair
    plan = BandPlan(rows, torch.float16, residual_rows=64)
    u8, _ = _as_inputs(photo_1536)
    with torch.inference_mode():
        banded = paint_in_bands(engine.networks.multistyle, u8, *ALONE, plan=plan)
    # Then it paints the whole pass's picture, within a grey level or two of the exact bands
    assert _psnr(banded, whole) >= 35.0
    assert np.abs(banded.astype(np.int16) - exact_bands).max() <= 3


def test_large_pictures_plan_the_residual_stage_in_bands() -> None:
    # Given the default budget: a 16 MP picture's residual stage fits whole, as before
    assert BandPlan.for_size(4096, 4096).residual_rows == 0
    # When the picture is a phone's 24 or 50 MP photo
    for height, width in ((4284, 5712), (6120, 8160)):
        plan = BandPlan.for_size(height, width)
        # Then the stage runs in bands, none smaller than the smallest band
        assert plan.residual_rows >= 16
        assert plan.residual_rows < height // 4


def test_no_seam_in_strips_across_band_edges(preset_pair) -> None:
    # Given the band edges of the banded pass (every 256 rows)
    whole, banded, rows = preset_pair
    diff = np.abs(banded.astype(np.int16) - whole.astype(np.int16))
    for edge in range(rows, whole.shape[0], rows):
        strip = slice(edge - 8, edge + 8)
        # Then a strip crossing each edge matches the whole pass as well as the rest does
        assert diff[strip].max() <= 2, f"seam at row {edge}"
        # and the step from the row above the edge to the row below is what the whole pass has
        step_banded = np.abs(banded[edge].astype(np.int16) - banded[edge - 1]).mean()
        step_whole = np.abs(whole[edge].astype(np.int16) - whole[edge - 1]).mean()
        assert abs(step_banded - step_whole) < 0.5


def test_custom_style_bands_in_half_precision_match_one_pass(engine) -> None:
    # Given a photo and a painting's style vector, and bands that keep their tensors in float16
    photo = _photo("chelsea", 512)
    u8, x = _as_inputs(photo)
    vector = engine.style_vector(sample_painting("scarlet-blaze"))
    with torch.inference_mode():
        whole = _whole(engine.networks.transformer(x, vector))
        banded = paint_in_bands(
            engine.networks.transformer, u8, vector, torch.ones(1), plan=BandPlan(96, torch.float16)
        )
        quarter_banded = paint_in_bands(
            engine.networks.transformer,
            u8,
            vector,
            torch.ones(1),
            plan=BandPlan(96, torch.float16, residual_rows=24),
        )
    # Then the bands agree with the whole pass, the residual stage whole or in bands
    assert _psnr(banded, whole) >= 35.0
    assert _psnr(quarter_banded, whole) >= 35.0


def test_a_blend_of_presets_in_bands_matches_one_pass(engine) -> None:
    # Given a blend of three presets (each layer mixes their rows of scales and shifts)
    photo = _photo("rocket", 384)
    u8, x = _as_inputs(photo)
    presets, weights = [3, 7, PRESET], torch.tensor([0.5, 0.3, 0.2])
    blend = torch.zeros(26)
    blend[presets] = weights
    with torch.inference_mode():
        whole = _whole(engine.networks.multistyle(x, blend))
        rows = torch.eye(26)[presets]
        banded = paint_in_bands(engine.networks.multistyle, u8, rows, weights, plan=BandPlan(64))
        one_band = paint_in_bands(engine.networks.multistyle, u8, rows, weights, plan=BandPlan(384))
    # Then bands and a single band paint the whole pass's picture
    assert _psnr(banded, whole) >= 35.0
    assert _psnr(one_band, whole) >= 35.0


@pytest.mark.parametrize("size", [(100, 90), (17, 23), (8, 11), (40, 23)])
def test_map_rows_equals_resizing_the_whole_map(size: tuple[int, int]) -> None:
    # Given a map and some of the rows of it at another size (growing, the same, shrinking, mixed)
    m = torch.rand(1, 3, 17, 23)
    rows = torch.tensor([0, 5, 6, 7, 39, 63, 64, 99])
    picked = rows[rows < size[0]]
    # When only those rows are made
    # Then they are those of the whole map resized (bilinear when growing, area when shrinking)
    if size[0] >= 17 or size[1] >= 23:
        whole = torch.nn.functional.interpolate(m, size=size, mode="bilinear", align_corners=False)
    else:
        whole = torch.nn.functional.adaptive_avg_pool2d(m, size)
    assert torch.allclose(map_rows(m, size, picked), whole.index_select(2, picked), atol=1e-6)


def test_band_plan_follows_the_memory_budget() -> None:
    # Given a 16 MP picture and the default budget
    plan = BandPlan.for_size(4096, 4096)
    # Then bands are a multiple of 4 rows and the kept tensors drop to half precision
    assert plan.rows % 4 == 0
    assert plan.rows >= 16
    assert plan.store_dtype == torch.float16
    # and a small picture is one band in full precision
    small = BandPlan.for_size(512, 512)
    assert small.rows >= 512
    assert small.store_dtype == torch.float32
    # and a tighter budget gives thinner bands
    assert BandPlan.for_size(4096, 4096, budget=256 * 2**20).rows < plan.rows
    # and the first layer is kept where it fits beside the kept tensors: all of 4 MP, part of 16 MP,
    # in whole bands, less of it with a tighter budget
    assert BandPlan.for_size(2048, 2048).keep_rows == 2048
    assert 0 < plan.keep_rows < 4096
    assert plan.keep_rows % plan.rows == 0
    assert BandPlan.for_size(4096, 4096, budget=512 * 2**20).keep_rows < plan.keep_rows


def test_progress_reports_every_band_and_never_goes_back(engine) -> None:
    photo = _photo("coffee", 256)
    u8, _ = _as_inputs(photo)
    seen: list[float] = []
    with torch.inference_mode():
        paint_in_bands(
            engine.networks.multistyle, u8, *ALONE, plan=BandPlan(32), progress=lambda _s, f: seen.append(f)
        )
    assert seen == sorted(seen)
    assert seen[-1] == pytest.approx(1.0)
    assert len(seen) >= 3 * (256 // 32)  # several stages, each band by band


def test_engine_in_bands_gives_the_one_pass_picture(engine) -> None:
    # Given the engine with a budget so small that a 640 x 480 photo runs in bands
    photo = sample_photo("rocket").resize((640, 480))
    tight = Engine(engine.networks, budget=24 * 2**20)
    for style in (PresetStyle("tapestry"), ImageStyle(sample_painting("tapestry"))):
        # When both engines paint it
        one_pass = engine.stylize(photo, [style], StylizeOptions(stroke="fine")).image
        banded = tight.stylize(photo, [style], StylizeOptions(stroke="fine")).image
        # Then the pictures agree
        assert banded.size == one_pass.size
        assert _psnr(np.asarray(banded), np.asarray(one_pass)) >= 35.0


#: Run the CLI in a fresh process, as ``stylemixer stylize`` runs.
_CLI = "import sys\nfrom stylemixer.cli import main\nsys.exit(main(sys.argv[1:]))\n"


@pytest.mark.slow
@pytest.mark.usefixtures("weights_path")
@pytest.mark.parametrize(
    "styles",
    [
        ["--style", "swirling-night"],
        ["--style", "swirling-night", "--style", "delft-engraving", "--mix", "regions"],
    ],
    ids=["preset", "regions"],
)
def test_cli_paints_16_megapixels_at_full_resolution(tmp_path, styles: list[str]) -> None:
    # Given a 4096 x 4096 JPEG of a real photo
    src, dst = tmp_path / "in.jpg", tmp_path / "out.jpg"
    _photo("astronaut", 4096).save(src, quality=90)
    # When the CLI paints it at full resolution (one preset, or two by region, each painted in bands
    # and composited along the map), in a fresh process with the worker's allocator setting
    args = ["stylize", str(src), "-o", str(dst), *styles, "--stroke", "fine"]
    env = {**os.environ, "MALLOC_ARENA_MAX": WORKER_MALLOC_ARENA_MAX}
    proc = run_python("-c", _CLI, *args, env=env)
    # Then it succeeds at the input's size. How much memory it takes depends on the allocator and
    # the machine's load (the same run peaked at 1.35 to 1.75 GB as other jobs ran): the figure is
    # ``python -m bench.full_res --only tiled_4096,regions_4096`` (``*_peak_rss_mb``), not a test's
    assert proc.returncode == 0, proc.stderr[-300:]
    with Image.open(dst) as out:
        assert out.size == (4096, 4096)
