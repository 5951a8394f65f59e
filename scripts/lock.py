"""Make the project's lock: every Python package, direct and transitive, pinned with its hashes.

``python scripts/lock.py`` (``make lock``) resolves pyproject.toml's ranges with pip-tools'
``pip-compile --generate-hashes`` into four files under ``requirements/``, each layer constrained by
the one before it, so a package has one version in all of them:

========================== =============================================================
``runtime-requirements``    ``[project].dependencies``: the Lambda image's run path
``build-requirements``      and the ``build`` extra: the image's build stage (weights, web models)
``dev-requirements``        and every extra: ``make setup``, ``make test`` and CI
``torch-requirements``      torch's own entry of the runtime layer, installed first and alone
========================== =============================================================

An existing lock's pins are kept where the ranges still allow them; ``--upgrade`` re-resolves to the
newest versions they allow (``make upgrade`` does that in a scratch checkout and adopts the result
only if the whole suite passes there: ``scripts/upgrade_lock.py``).

Why pip-tools rather than uv: pip-compile resolves through pip itself, with pip's configuration, so
it sees the indexes and wheel folders pip sees (the CPU build of torch here lies in such a folder,
``torch==2.13.0+cpu``); the lock it writes is installed by plain ``pip install --require-hashes``,
with no second installer. uv reads none of pip's configuration and would take the CUDA build of
torch from PyPI. No index or folder of the machine is written into the files (``--no-emit-*``), so
the lock is the same wherever it is made; every hash pip-compile can see is recorded (for PyPI, all
the files of each pinned release, every platform and Python).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK_DIR = Path("requirements")
RUNTIME = LOCK_DIR / "runtime-requirements.txt"
BUILD = LOCK_DIR / "build-requirements.txt"
DEV = LOCK_DIR / "dev-requirements.txt"
TORCH = LOCK_DIR / "torch-requirements.txt"
#: The layers in order: (file, the extras it adds, the layer that constrains it).
LAYERS: tuple[tuple[Path, tuple[str, ...], Path | None], ...] = (
    (RUNTIME, (), None),
    (BUILD, ("build",), RUNTIME),
    (DEV, ("build", "local", "infra", "dev"), BUILD),
)
COMMON = (
    "--quiet",
    "--generate-hashes",
    "--allow-unsafe",  # pip and setuptools are pinned too: the venv's own tools come from the lock
    "--strip-extras",
    "--no-emit-index-url",
    "--no-emit-find-links",
    "--no-emit-trusted-host",
    "--newline=LF",
)
TORCH_HEADER = """\
# torch's entry of runtime-requirements.txt, installed first and alone (`make setup`): from the
# machine's own indexes, or else from PyTorch's CPU index, never from PyPI (whose Linux torch is the
# CUDA build). Written by scripts/lock.py; do not edit.
"""


def compile_layer(
    root: Path, output: Path, extras: tuple[str, ...], constraint: Path | None, *, upgrade: bool
) -> None:
    """One ``pip-compile`` run from ``root`` (paths in the file's header stay relative)."""
    command = [sys.executable, "-m", "piptools", "compile", *COMMON, "--output-file", str(output)]
    command += [f"--extra={extra}" for extra in extras]
    if constraint is not None:
        command += ["--constraint", str(constraint)]
    if upgrade:
        command.append("--upgrade")
    command.append("pyproject.toml")
    print(f"locking {output} ...", flush=True)
    subprocess.run(command, cwd=root, check=True)


def torch_entry(runtime_lock: str) -> str:
    """torch's lines (``torch==...`` and its ``--hash`` lines) from the runtime layer's text."""
    lines = runtime_lock.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith("torch=="))
    entry = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("    --hash="):
            break
        entry.append(line)
    return "".join(entry)


def make_lock(root: Path = ROOT, *, upgrade: bool = False) -> None:
    """Write the four lock files under ``root/requirements/``."""
    (root / LOCK_DIR).mkdir(exist_ok=True)
    for output, extras, constraint in LAYERS:
        compile_layer(root, output, extras, constraint, upgrade=upgrade)
    runtime = (root / RUNTIME).read_text(encoding="utf-8")
    (root / TORCH).write_text(TORCH_HEADER + torch_entry(runtime), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--upgrade", action="store_true", help="re-resolve to the newest versions allowed")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to lock (default: this one)")
    args = parser.parse_args(argv)
    make_lock(args.root, upgrade=args.upgrade)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
