"""``make upgrade``: move the lock to the newest versions the ranges allow, only if everything passes.

1. A scratch checkout of ``HEAD`` (``git worktree``) beside a copy of nothing else: a fresh clone as
   CI gets it, with ``../shared`` linked in when this checkout has one.
2. ``scripts/lock.py --upgrade`` there: every package re-resolved to the newest release that
   pyproject.toml's ranges allow.
3. ``make test`` there: a new venv from the new lock, the weights, the page's assets, lint and the
   whole suite, exactly what a newcomer and CI run.
4. Green: the new lock files are copied into this checkout (review ``git diff requirements/`` and
   commit). Red: the failing tests are named, this checkout's lock is left as it was, and the
   run's log is kept in ``artifacts/upgrade-make-test.log``.

It takes as long as a fresh ``make test`` (about ten minutes on this project's machines).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lock import LOCK_DIR, ROOT, make_lock  # (a script beside this one)

#: pytest's summary lines naming a failure, and make's line when a target failed.
FAILURE = re.compile(r"^(?:FAILED|ERROR) \S+|^make: \*\*\* .*$", re.MULTILINE)
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$", re.MULTILINE)


def pins(folder: Path) -> dict[str, str]:
    """``{package: version}`` over the lock files in ``folder``."""
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*-requirements.txt")):
        found.update(PIN.findall(path.read_text(encoding="utf-8")))
    return found


def changes(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """One line per package whose pin moved, came or went.

    Example:
        >>> changes({"moto": "5.2.5", "six": "1.0"}, {"moto": "5.2.6", "wheel": "0.48"})
        ['moto 5.2.5 -> 5.2.6', 'six 1.0 -> (gone)', 'wheel (new) -> 0.48']
    """
    return [
        f"{name} {old.get(name, '(new)')} -> {new.get(name, '(gone)')}"
        for name in sorted(old.keys() | new.keys())
        if old.get(name) != new.get(name)
    ]


def upgrade(root: Path = ROOT) -> int:
    """Run the steps above; 0 when the lock was upgraded (or already newest), 1 when it was kept."""
    scratch = Path(tempfile.mkdtemp(prefix="stylemixer-upgrade-"))
    tree = scratch / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), "HEAD"], cwd=root, check=True)
    shared = root.parent / "shared"
    if shared.is_dir():
        (scratch / "shared").symlink_to(shared.resolve())
    log = scratch / "make-test.log"
    try:
        make_lock(tree, upgrade=True)
        moved = changes(pins(root / LOCK_DIR), pins(tree / LOCK_DIR))
        if not moved:
            print("The lock already has the newest versions the ranges allow.")
            return 0
        print("Testing the newest versions:\n  " + "\n  ".join(moved), flush=True)
        with log.open("w", encoding="utf-8") as out:
            result = subprocess.run(
                ["make", "test"], check=False, cwd=tree, stdout=out, stderr=subprocess.STDOUT
            )
        if result.returncode == 0:
            for path in (tree / LOCK_DIR).glob("*-requirements.txt"):
                shutil.copy2(path, root / LOCK_DIR / path.name)
            print(
                "All green: the lock in requirements/ now has them. "
                "Review `git diff requirements/` and commit."
            )
            return 0
        kept = root / "artifacts" / "upgrade-make-test.log"
        kept.parent.mkdir(exist_ok=True)
        shutil.copy2(log, kept)
        print(f"With the newest versions `make test` fails; the lock is kept as it was.\n  {failures(log)}")
        print(f"The whole log: {kept}")
        return 1
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=root, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def failures(log: Path) -> str:
    """The failing tests (pytest's summary) and failed make targets of a ``make test`` log, one a line."""
    found = sorted(set(FAILURE.findall(log.read_text(encoding="utf-8", errors="replace"))))
    return "\n  ".join(found) or "(no test named: see the log)"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0]).parse_args(argv)
    return upgrade()


if __name__ == "__main__":
    raise SystemExit(main())
