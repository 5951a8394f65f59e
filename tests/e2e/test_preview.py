"""The instant preview: the project's networks in the browser (onnxruntime-web, WASM, a Web Worker).

What a person sees beside the form once a photo and a style are chosen, checked against the CLI's
picture for the same photo, style and size (PSNR), and what the page fetches and when: nothing of
the preview before a photo is chosen, then the preset network (the gallery's thumbnails are painted
on the photo), and a painting's networks only once a painting is chosen.

Speed is measured, not asserted (the machine is shared): each test that times the preview writes
its figures to ``artifacts/e2e/preview-<test>.json`` and prints them; ``make bench`` measures the
same on a fresh browser several times (``bench/preview.py``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support import imagefiles
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, open_page
from tests.support.pageflow import (
    ARTIFACTS,
    JOB_TIMEOUT_MS,
    add_painting,
    choose_photo,
    open_site,
    pick_preset,
    submit_and_wait,
)
from tests.support.paths import testdata_path
from tests.support.previewflow import (
    PREVIEW_TIMEOUT_MS,
    after_change,
    cli_picture,
    preview_image,
    preview_requests,
    psnr,
)

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from stylemixer.local.process import ServedStack


#: The issue's fidelity bound: the preview against the CLI's picture for the same choice.
MIN_PSNR_DB = 30.0
#: Runs the preset networks (both files) on a small input with each of the page's runtime builds.
BOTH_BACKENDS = """async () => {
  const get = async (name) => new Uint8Array(await (await fetch(`models/${name}`)).arrayBuffer());
  const [first, rest] = await Promise.all([get('multistyle-features.onnx'), get('multistyle.onnx')]);
  const image = new Float32Array(3 * 32 * 48).map((_, i) => (Math.sin(i * 0.37) + 1) / 2);
  const style = new Float32Array(26); style[16] = 0.6; style[2] = 0.4;
  const builds = [['webgpu', 'ort.webgpu.bundle.min.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'],
                  ['wasm', 'ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.wasm']];
  const outputs = [];
  for (const [backend, script, binary] of builds) {
    const ort = await import(new URL(`vendor/onnxruntime/${script}`, location.href).href);
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.wasmPaths = { wasm: new URL(`vendor/onnxruntime/${binary}`, location.href).href };
    const options = { executionProviders: [backend] };
    const a = await ort.InferenceSession.create(first, options);
    const b = await ort.InferenceSession.create(rest, options);
    const features = await a.run({ image: new ort.Tensor('float32', image, [1, 3, 32, 48]) });
    const styleTensor = new ort.Tensor('float32', style, [1, 26]);
    const out = await b.run({ features: features.features, style: styleTensor });
    outputs.push({ backend, dims: out.stylized.dims, data: out.stylized.data });
  }
  let max = 0;
  outputs[0].data.forEach((v, i) => { max = Math.max(max, Math.abs(v - outputs[1].data[i])); });
  return { backends: outputs.map((o) => o.backend), shape: outputs[0].dims, max_abs_diff: max };
}"""
#: Chromium with a WebGPU adapter on the CPU (SwiftShader), for the preview's WebGPU path.
WEBGPU_ARGS = [
    *(a for a in CHROMIUM_ARGS if a != "--disable-gpu"),
    "--enable-unsafe-webgpu",
    "--use-webgpu-adapter=swiftshader",
    "--enable-features=Vulkan",
    "--use-angle=swiftshader",
]


def record(request: pytest.FixtureRequest, figures: dict[str, Any]) -> None:
    """Keep the measured figures beside the screenshots, and show them in the test's output."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"preview-{request.node.name}.json"
    path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"\n{request.node.name}: {json.dumps(figures)}")


def watch_requests(page: Any) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    return urls


def test_a_preset_preview_is_the_clis_picture_and_follows_every_change(
    page: Any, stack: ServedStack, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    photo = testdata_path("photos", "chicago.jpg")
    urls = watch_requests(page)
    open_site(page, stack)

    # Given the page, nothing of the preview has been fetched yet
    assert preview_requests(urls) == []

    # When a photo is chosen, the gallery's thumbnails become that photo in each preset (painted by
    # the runtime and the preset network only), and no preview shows before a style is chosen
    choose_photo(page, photo)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=style-option] img')]"
        ".every(img => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0)",
        timeout=PREVIEW_TIMEOUT_MS,
    )
    fetched = preview_requests(urls)
    assert any(u.endswith("/models/multistyle.onnx") for u in fetched)
    assert any(u.endswith("/vendor/onnxruntime/ort-wasm-simd-threaded.wasm") for u in fetched)
    assert not any(u.endswith(("/predictor.onnx", "/transformer.onnx")) for u in fetched)
    assert page.get_by_test_id("preview").is_hidden()

    # When a preset is chosen, the preview appears
    first = after_change(page, lambda: pick_preset(page, "swirling-night"))
    assert page.get_by_test_id("preview").is_visible()
    assert first["backend"] == "wasm"

    # Then it is the CLI's picture for the same photo and style (painted at the photo's 712 px, as the
    # default stroke size paints it), shown at 384 px
    shown = preview_image(page)
    assert shown.size == (384, 256)
    reference = cli_picture(photo, tmp_path / "preset.png", "--style", "swirling-night")
    preset_db = psnr(shown, reference)
    assert preset_db >= MIN_PSNR_DB

    # And it follows each change: another preset, a blend's weight, strength, the photo's colours
    changes = {
        "second preset (blend)": lambda: pick_preset(page, "grey-ink"),
        "blend weight": lambda: page.locator("#chosen input[type=range]").first.fill("80"),
        "strength": lambda: page.get_by_test_id("strength").fill("55"),
        "keep colours": lambda: page.locator("#preserve-color").check(),
    }
    later = {name: after_change(page, change) for name, change in changes.items()}
    shown = preview_image(page)
    reference = cli_picture(
        photo, tmp_path / "blend.png",
        "--style", "swirling-night", "--style", "grey-ink", "--weight", "80", "--weight", "20",
        "--strength", "0.55", "--preserve-color",
    )  # fmt: skip
    blend_db = psnr(shown, reference)
    assert blend_db >= MIN_PSNR_DB

    # And it follows the stroke size: coarse strokes are painted at 512 px, as the job paints them
    later["coarse strokes"] = after_change(page, lambda: page.locator("#stroke").select_option("coarse"))
    coarse = preview_image(page)
    reference = cli_picture(
        photo, tmp_path / "coarse.png",
        "--style", "swirling-night", "--style", "grey-ink", "--weight", "80", "--weight", "20",
        "--strength", "0.55", "--preserve-color", "--stroke", "coarse", "--max-size", "512",
    )  # fmt: skip
    coarse_db = psnr(coarse, reference)
    assert coarse_db >= MIN_PSNR_DB
    assert psnr(coarse, shown) < coarse_db, "the coarse preview looks like the medium one"
    record(
        request,
        {
            "first_preview_ms": int(first["firstMs"]),
            "first_preview_wall_ms": first["wall_ms"],
            "later_ms": {name: int(v["lastMs"]) for name, v in later.items()},
            "later_wall_ms": {name: v["wall_ms"] for name, v in later.items()},
            "psnr_db": {
                "preset": round(preset_db, 2),
                "blend, strength 0.55, keep colours": round(blend_db, 2),
                "the same, coarse strokes": round(coarse_db, 2),
            },
        },
    )


def test_a_painting_preview_is_the_clis_picture(
    page: Any, stack: ServedStack, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    photo = testdata_path("photos", "cornell.jpg")
    painting = testdata_path("styles", "la_muse.jpg")
    urls = watch_requests(page)
    open_site(page, stack)
    choose_photo(page, photo)

    # When a painting of the person's own is the style
    first = after_change(page, lambda: add_painting(page, painting))

    # Then the predictor and the arbitrary transformer were fetched for it
    fetched = preview_requests(urls)
    assert any(u.endswith("/models/predictor.onnx") for u in fetched)
    assert any(u.endswith("/models/transformer.onnx") for u in fetched)
    # And the preview is the CLI's picture
    reference = cli_picture(photo, tmp_path / "painting.png", "--style", str(painting))
    painting_db = psnr(preview_image(page), reference)
    assert painting_db >= MIN_PSNR_DB

    # And strength (which moves the style vector toward the photo's own) is followed too
    strength = after_change(page, lambda: page.get_by_test_id("strength").fill("60"))
    reference = cli_picture(
        photo, tmp_path / "painting-60.png", "--style", str(painting), "--strength", "0.6"
    )
    strength_db = psnr(preview_image(page), reference)
    assert strength_db >= MIN_PSNR_DB
    record(
        request,
        {
            "first_preview_ms": int(first["firstMs"]),
            "first_preview_wall_ms": first["wall_ms"],
            "later_ms": {"strength": int(strength["lastMs"])},
            "psnr_db": {"painting": round(painting_db, 2), "painting, strength 0.6": round(strength_db, 2)},
        },
    )


def test_regions_and_mixed_blends_say_why_there_is_no_preview(page: Any, stack: ServedStack) -> None:
    open_site(page, stack)
    choose_photo(page, testdata_path("photos", "golden_gate.jpg"))
    after_change(page, lambda: pick_preset(page, "tapestry"))
    pick_preset(page, "amber-glow")
    note = page.locator("#style-preview-note")

    # When the two presets are to be placed by regions
    page.get_by_test_id("mix-mode").select_option("regions")

    # Then the preview says the regions are shown after painting, and shows no stale picture
    expect(note).to_contain_text("after painting")
    expect(page.get_by_test_id("preview")).to_be_hidden()

    # And a painting added to a blend of presets (which cannot be blended with them) makes the mix go
    # by regions, with the same note
    page.get_by_test_id("mix-mode").select_option("blend")
    expect(page.get_by_test_id("preview")).to_be_visible()
    add_painting(page, testdata_path("styles", "sketch.png"))
    expect(page.get_by_test_id("mix-mode")).to_have_value("regions")
    expect(note).to_contain_text("after painting")
    expect(page.get_by_test_id("preview")).to_be_hidden()


def test_a_heic_photo_is_decoded_by_the_page_and_previewed(
    page: Any, stack: ServedStack, tmp_path: Path
) -> None:
    # Given an iPhone photo (HEIC, stored sideways with its rotation in the container), which
    # Chromium cannot decode itself, and a preset
    source = testdata_path("photos", "cornell.jpg")  # landscape: a sideways decoding shows as portrait
    photo = tmp_path / "cornell.heic"
    with Image.open(source) as image:
        upright = image.convert("RGB")
        photo.write_bytes(imagefiles.heic(upright.transpose(Image.Transpose.ROTATE_90), orientation=6))
    open_site(page, stack)
    choose_photo(page, photo)

    # When a preset is chosen
    first = after_change(page, lambda: pick_preset(page, "tapestry"))

    # Then the page shows the photo upright, decoded by its own decoder, and previews it like any other
    assert page.locator("#content-preview-img").evaluate("i => [i.naturalWidth, i.naturalHeight]") == list(
        upright.size
    )
    assert page.get_by_test_id("preview").is_visible()
    assert int(first["width"]) == 384
    assert int(first["height"]) < 384


def test_without_webassembly_the_page_works_as_before(page: Any, stack: ServedStack) -> None:
    # Given a browser without WebAssembly
    page.add_init_script("delete globalThis.WebAssembly;")
    urls = watch_requests(page)
    photo = testdata_path("photos", "brad_pitt.jpg")
    open_site(page, stack)

    # When a photo and a style are chosen and the job is sent
    choose_photo(page, photo)
    pick_preset(page, "sepia-sketch")
    page.locator("#max-size").select_option("512")
    outcome = submit_and_wait(page, JOB_TIMEOUT_MS)

    # Then no preview was shown or fetched, no error was shown, and the job gave its picture
    assert outcome == "result"
    assert page.get_by_test_id("preview").is_hidden()
    assert not any(u.endswith((".onnx", ".wasm")) for u in urls)
    assert page.get_by_test_id("error").is_hidden()


@pytest.fixture
def webgpu_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a second Chromium that has a WebGPU adapter (SwiftShader's, on the CPU)."""
    gpu_browser = browser.browser_type.launch(executable_path=str(CHROMIUM), args=WEBGPU_ARGS)
    try:
        yield from open_page(gpu_browser, request, DESKTOP)
    finally:
        gpu_browser.close()


def test_the_web_models_give_the_same_numbers_on_webgpu_as_on_wasm(
    webgpu_page: Any, stack: ServedStack
) -> None:
    # Given a browser with a WebGPU adapter (SwiftShader's: a GPU emulated on the CPU, so a small input)
    page = webgpu_page
    open_site(page, stack)
    if not page.evaluate("async () => Boolean(navigator.gpu && await navigator.gpu.requestAdapter())"):
        pytest.skip("this Chromium has no WebGPU adapter, even SwiftShader's")

    # When the page's runtime builds run the preset networks, WebGPU's then WASM's
    result = page.evaluate(BOTH_BACKENDS)

    # Then the two agree to float rounding
    assert result["backends"] == ["webgpu", "wasm"]
    assert result["shape"] == [1, 3, 32, 48]
    assert result["max_abs_diff"] < 1e-3


def test_a_software_gpu_is_not_used_for_the_preview(webgpu_page: Any, stack: ServedStack) -> None:
    # Given a browser whose only WebGPU adapter is a fallback one (emulated on the CPU)
    page = webgpu_page
    open_site(page, stack)
    fallback = page.evaluate(
        "async () => { const a = navigator.gpu && await navigator.gpu.requestAdapter();"
        " return Boolean(a && a.info && a.info.isFallbackAdapter); }"
    )
    if not fallback:
        pytest.skip("this Chromium's WebGPU adapter is not a fallback adapter")
    urls = watch_requests(page)
    choose_photo(page, testdata_path("photos", "golden_gate.jpg"))

    # When a preset is chosen
    first = after_change(page, lambda: pick_preset(page, "delft-engraving"))

    # Then the preview ran on WASM, which is far faster than a GPU emulated on the CPU
    assert first["backend"] == "wasm"
    assert not any(u.endswith("/ort-wasm-simd-threaded.asyncify.wasm") for u in urls)


def test_the_preview_paints_at_the_scale_the_job_paints_at(page: Any, stack: ServedStack) -> None:
    from stylemixer.neural.stroke import working_size
    from stylemixer.options import Stroke

    sizes = [(712, 474), (512, 512), (640, 427), (1050, 1680), (4032, 3024), (8000, 40), (300, 200)]
    strokes = [None, "fine", "medium", "coarse"]
    open_site(page, stack)

    # When the page's stroke rule (config.json's numbers, js/preview/stroke.js) sizes pictures
    found = page.evaluate(
        """async ([sizes, strokes]) => {
            const { workingSize } = await import(new URL('js/preview/stroke.js', location.href).href);
            const rule = (await (await fetch('config.json')).json()).stroke;
            return sizes.map(([w, h]) => strokes.map((s) => workingSize(w, h, s, rule)));
        }""",
        [sizes, strokes],
    )

    # Then it gives each the size the engine paints it at, for every stroke size
    expected = [
        [list(working_size(size, Stroke(stroke) if stroke else None)) for stroke in strokes] for size in sizes
    ]
    assert found == expected
