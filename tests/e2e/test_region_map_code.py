"""The region editor's own code, run in Chromium: the PNG codec and the map edits.

The page's modules are imported into a served page (`page.evaluate`), fed maps made here, and their
answers checked against Pillow (what the API reads a map with) and scikit-image's flood fill. Maps
travel as base64 PNG bytes or as plain lists of values.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from PIL import Image
from skimage.segmentation import flood

if TYPE_CHECKING:
    from stylemixer.local.process import ServedStack


#: The engine's palette (stylemixer/neural/regions.py), as the page writes it.
PALETTE = [(230, 25, 75), (60, 180, 75), (0, 130, 200), (255, 200, 25)]

ENCODE = """async ({ width, height, values, palette }) => {
  const { encodeMap } = await import(new URL('js/pngmap.js', location.href));
  const bytes = await encodeMap({ width, height, data: Uint8Array.from(values) }, palette);
  return btoa(String.fromCharCode(...bytes));
}"""

DECODE = """async (encoded) => {
  const { decodeMap } = await import(new URL('js/pngmap.js', location.href));
  const bytes = Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0));
  try {
    const map = await decodeMap(bytes);
    return { width: map.width, height: map.height, values: Array.from(map.data), palette: map.palette };
  } catch (error) {
    return { error: error.name, message: error.message };
  }
}"""

EDIT = """async ({ width, height, values, edit, args }) => {
  const module = await import(new URL('js/regionmap.js', location.href));
  const map = { width, height, data: Uint8Array.from(values) };
  const rect = module[edit](map, ...args);
  return { rect, values: Array.from(map.data) };
}"""


def edit(site: Any, values: np.ndarray, name: str, *args: Any) -> tuple[np.ndarray, dict[str, int]]:
    """Run the map edit ``name`` of js/regionmap.js on ``values``: the edited map and the rect it reports."""
    height, width = values.shape
    answer = site.evaluate(
        EDIT,
        {
            "width": width,
            "height": height,
            "values": values.ravel().tolist(),
            "edit": name,
            "args": list(args),
        },
    )
    return np.asarray(answer["values"]).reshape(height, width), answer["rect"]


def blocky_map(seed: int, shape: tuple[int, int] = (61, 83), styles: int = 3) -> np.ndarray:
    """A map of patches (some touching only at corners), like a painted map but harder to fill."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, styles, size=(shape[0] // 6 + 1, shape[1] // 6 + 1), dtype=np.uint8)
    values = np.kron(coarse, np.ones((6, 6), np.uint8))[: shape[0], : shape[1]]
    noise = rng.random(shape) < 0.03
    values[noise] = rng.integers(0, styles, size=int(noise.sum()), dtype=np.uint8)
    return values


def png_with_filters(values: np.ndarray, palette: list[tuple[int, int, int]], filters: list[int]) -> bytes:
    """An 8-bit palette PNG whose row y is written with filter type ``filters[y % len(filters)]``."""
    height, width = values.shape
    rows = values.astype(np.int32)
    raw = bytearray()
    for y in range(height):
        kind = filters[y % len(filters)]
        row = rows[y]
        up = rows[y - 1] if y else np.zeros(width, np.int32)
        left = np.concatenate([[0], row[:-1]])
        corner = np.concatenate([[0], up[:-1]])
        if kind == 0:
            predicted = np.zeros(width, np.int32)
        elif kind == 1:
            predicted = left
        elif kind == 2:
            predicted = up
        elif kind == 3:
            predicted = (left + up) // 2
        else:
            p = left + up - corner
            pa, pb, pc = np.abs(p - left), np.abs(p - up), np.abs(p - corner)
            predicted = np.where((pa <= pb) & (pa <= pc), left, np.where(pb <= pc, up, corner))
        raw.append(kind)
        raw.extend(((row - predicted) % 256).astype(np.uint8).tobytes())

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    plte = bytes(v for colour in palette for v in colour)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"PLTE", plte)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


def pillow_png(image: Image.Image) -> str:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def decoded(page: Any, encoded: str) -> dict[str, Any]:
    return page.evaluate(DECODE, encoded)


@pytest.fixture
def site(page: Any, stack: ServedStack) -> Any:
    """The page, loaded, so its modules can be imported from its own origin (as its CSP allows)."""
    page.goto(stack.url)
    page.wait_for_selector("#job-form:not([hidden])")
    return page


def test_a_map_written_by_the_page_is_read_by_pillow_with_its_exact_values(site: Any) -> None:
    values = blocky_map(1, styles=4)
    height, width = values.shape

    encoded = site.evaluate(
        ENCODE,
        {"width": width, "height": height, "values": values.ravel().tolist(), "palette": PALETTE},
    )

    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        image.load()
        assert image.format == "PNG"
        assert image.mode == "P"
        assert image.size == (width, height)
        np.testing.assert_array_equal(np.asarray(image), values)
        assert image.getpalette()[:12] == [v for colour in PALETTE for v in colour]
    # And the page reads its own bytes back as they were
    back = decoded(site, encoded)
    assert back["values"] == values.ravel().tolist()
    assert [tuple(c) for c in back["palette"]] == PALETTE


@pytest.mark.parametrize("colours", [2, 4, 16, 256], ids=lambda n: f"{n}-colour-palette")
def test_the_page_reads_pillows_palette_maps_at_every_bit_depth(site: Any, colours: int) -> None:
    # Pillow writes a palette of 2, 4 or 16 colours with 1, 2 or 4 bits per pixel, packed in bytes
    values = blocky_map(colours, shape=(37, 53), styles=min(colours, 4))
    image = Image.frombytes("P", (53, 37), values.tobytes())
    palette = [v for colour in PALETTE for v in colour] + [7] * max(0, 3 * colours - 12)
    image.putpalette(palette[: 3 * colours])

    back = decoded(site, pillow_png(image))

    assert (back["width"], back["height"]) == (53, 37)
    assert back["values"] == values.ravel().tolist()
    assert [tuple(c) for c in back["palette"][: min(colours, 4)]] == PALETTE[: min(colours, 4)]


def test_the_page_reads_a_greyscale_map_as_its_values(site: Any) -> None:
    values = blocky_map(7)

    height, width = values.shape
    back = decoded(site, pillow_png(Image.frombytes("L", (width, height), values.tobytes())))

    assert back["values"] == values.ravel().tolist()
    assert back["palette"] is None


@pytest.mark.parametrize("filters", [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]], ids=str)
def test_the_page_undoes_every_png_row_filter(site: Any, filters: list[int]) -> None:
    values = blocky_map(11, styles=4)

    encoded = base64.b64encode(png_with_filters(values, PALETTE, filters)).decode("ascii")
    back = decoded(site, encoded)

    with Image.open(io.BytesIO(base64.b64decode(encoded))) as image:
        np.testing.assert_array_equal(np.asarray(image), values)  # the file itself is right
    assert back["values"] == values.ravel().tolist()


def test_the_page_refuses_what_is_not_a_map(site: Any) -> None:
    good = png_with_filters(blocky_map(3), PALETTE, [0])
    damaged = bytearray(good)
    damaged[40] ^= 0xFF  # inside PLTE: its CRC no longer matches
    colour = pillow_png(Image.new("RGB", (8, 8), (10, 20, 30)))

    answers = [
        decoded(site, base64.b64encode(bytes(damaged)).decode("ascii")),
        decoded(site, colour),
        decoded(site, base64.b64encode(b"GIF89a not a png at all").decode("ascii")),
        decoded(site, base64.b64encode(good[: len(good) // 2]).decode("ascii")),
    ]

    assert [answer.get("error") for answer in answers] == ["MapFormatError"] * 4, answers
    assert "damaged" in answers[0]["message"]
    assert "palette or greyscale" in answers[1]["message"]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_click_fills_exactly_the_connected_region_skimage_finds(site: Any, seed: int) -> None:
    values = blocky_map(seed)
    height, width = values.shape
    rng = np.random.default_rng(100 + seed)
    y, x = int(rng.integers(height)), int(rng.integers(width))
    new = (int(values[y, x]) + 1) % 3

    filled, rect = edit(site, values, "floodFill", x, y, new)

    region = flood(values, (y, x), connectivity=1)  # four neighbours, as the page fills
    expected = values.copy()
    expected[region] = new
    np.testing.assert_array_equal(filled, expected)
    rows, cols = np.nonzero(region)
    assert rect == {
        "x": int(cols.min()),
        "y": int(rows.min()),
        "width": int(cols.max() - cols.min() + 1),
        "height": int(rows.max() - rows.min() + 1),
    }


def test_a_region_winding_through_a_million_pixel_map_fills_without_running_out_of_stack(site: Any) -> None:
    # One corridor a pixel wide winding through the whole map: the even rows, joined at alternate ends
    height, width = 1001, 1000
    values = np.ones((height, width), np.uint8)
    values[::2, :] = 0
    values[1::4, -1] = 0
    values[3::4, 0] = 0

    answer = site.evaluate(
        """async ({ width, height, values }) => {
          const { floodFill } = await import(new URL('js/regionmap.js', location.href));
          const data = Uint8Array.from(atob(values), (c) => c.charCodeAt(0));
          const rect = floodFill({ width, height, data }, 0, 0, 2);
          let filled = 0;
          for (const value of data) filled += value === 2;
          return { rect, filled };
        }""",
        {"width": width, "height": height, "values": base64.b64encode(values.tobytes()).decode("ascii")},
    )

    assert answer["filled"] == int(flood(values, (0, 0), connectivity=1).sum())
    assert answer["rect"] == {"x": 0, "y": 0, "width": width, "height": height}


def test_the_brush_paints_a_disc_and_a_stroke_without_gaps(site: Any) -> None:
    height, width = 40, 60
    values = np.zeros((height, width), np.uint8)

    disc, disc_rect = edit(site, values, "paintDisc", 10, 12, 5, 1)
    line, _ = edit(site, values, "paintLine", {"x": 3, "y": 30}, {"x": 57, "y": 5}, 2, 3)

    yy, xx = np.mgrid[:height, :width]
    expected = ((xx - 10) ** 2 + (yy - 12) ** 2 <= 25).astype(np.uint8)
    np.testing.assert_array_equal(disc, expected)
    assert disc_rect == {"x": 5, "y": 7, "width": 11, "height": 11}
    painted = line == 3
    # every point of the segment lies in the stroke, and nothing farther than the radius from it
    for t in np.linspace(0, 1, 200):
        assert painted[round(30 - 25 * t), round(3 + 54 * t)]
    direction = np.array([54.0, -25.0]) / np.hypot(54, 25)
    offsets = np.stack([xx - 3, yy - 30], axis=-1).astype(float)
    along = np.clip(offsets @ direction, 0, np.hypot(54, 25))
    distance = np.linalg.norm(offsets - along[..., None] * direction, axis=-1)
    assert not painted[distance > 2.5].any()


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((4096, 3072), (2048, 1536)),
        ((512, 341), (512, 341)),
        ((8000, 33), (8000, 33)),
        ((8190, 130), (4032, 64)),
    ],
    ids=["large", "small", "thin strip", "long strip"],
)
def test_a_large_map_is_edited_smaller_in_its_own_shape(
    site: Any, size: tuple[int, int], expected: tuple[int, int]
) -> None:
    # Given a map of two halves, left and right, of a given size
    width, height = size
    half = np.zeros((height, width), np.uint8)
    half[:, width // 2 :] = 1

    fitted = site.evaluate(
        """async ({ width, height, values }) => {
          const { fitMap } = await import(new URL('js/regionmap.js', location.href));
          const data = Uint8Array.from(atob(values), (c) => c.charCodeAt(0));
          const map = fitMap({ width, height, data }, 2048);
          let text = "";
          for (let i = 0; i < map.data.length; i += 8192) {
            text += String.fromCharCode(...map.data.subarray(i, i + 8192));
          }
          return { width: map.width, height: map.height, values: btoa(text) };
        }""",
        {"width": width, "height": height, "values": base64.b64encode(half.tobytes()).decode("ascii")},
    )

    # Then it is at most 2048 px long unless that would make it thinner than 64 px, its shape kept
    # within 1 % (the API allows 2 %), and its halves where they were (nearest neighbour)
    assert (fitted["width"], fitted["height"]) == expected
    assert abs(fitted["width"] / fitted["height"] / (width / height) - 1) < 0.01
    values = np.frombuffer(base64.b64decode(fitted["values"]), np.uint8).reshape(expected[1], expected[0])
    assert set(np.unique(values[:, : expected[0] // 2 - 1])) == {0}
    assert set(np.unique(values[:, expected[0] // 2 + 1 :])) == {1}
