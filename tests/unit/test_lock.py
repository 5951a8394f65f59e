"""The lock is complete and is what every environment installs.

Every third-party package the Lambda handlers can import (API, worker, dead letters, with every
module they reach, lazy imports inside functions included) is pinned in the lock's runtime layer;
the Makefile installs from the lock, by hash, and nothing else; the lock's layers agree; the lock
and upgrade scripts' own helpers do what their callers rely on.
"""

from __future__ import annotations

import ast
import importlib.util
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from stylemixer.resources import API_HANDLER, DLQ_HANDLER, WORKER_HANDLER
from tests.support.paths import ROOT, module_file

if TYPE_CHECKING:
    from pathlib import Path
    from types import ModuleType

LOCK = ROOT / "requirements"
PROJECT_PACKAGES = {"stylemixer", "functions"}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+) \\$", re.MULTILINE)


def lock_pins(name: str) -> dict[str, str]:
    return {canonicalize_name(n): v for n, v in PIN.findall((LOCK / name).read_text(encoding="utf-8"))}


def script(name: str) -> ModuleType:
    """One of scripts/*.py, imported from its file (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def imported_names(path: Path, module: str) -> tuple[set[str], set[str]]:
    """The modules ``path`` imports: (at module level, inside functions), ``TYPE_CHECKING`` left out."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    top_level: set[str] = set()
    in_functions: set[str] = set()

    def absolute(node: ast.ImportFrom) -> str:
        base = package
        for _ in range(node.level - 1):
            base = base.rpartition(".")[0]
        if not node.level:
            return node.module or ""
        return f"{base}.{node.module}" if node.module else base

    def visit(node: ast.AST, inside_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child, inside_function)
            return
        found = in_functions if inside_function else top_level
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            source = absolute(node)
            found.add(source)
            found.update(f"{source}.{alias.name}" for alias in node.names)
        inside = inside_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return top_level, in_functions


def third_party_imports(*roots: str) -> tuple[set[str], set[str]]:
    """Top-level names of the third-party modules reachable from ``roots``: (eagerly, only lazily).

    A module is reached eagerly through module-level imports from the roots, lazily once a function's
    own import is on the way; the project's own modules are followed both ways.
    """
    eager: set[str] = set()
    lazy: set[str] = set()
    seen: set[tuple[str, bool]] = set()
    todo = [(root, False) for root in roots]
    while todo:
        name, is_lazy = todo.pop()
        if (name, is_lazy) in seen:
            continue
        seen.add((name, is_lazy))
        top = name.split(".")[0]
        if top in PROJECT_PACKAGES:
            parts = name.split(".")
            todo += [(".".join(parts[:k]), is_lazy) for k in range(1, len(parts))]
            path = module_file(name)
            if path is not None:
                at_top, in_functions = imported_names(path, name)
                todo += [(child, is_lazy) for child in at_top]
                todo += [(child, True) for child in in_functions]
        elif top not in sys.stdlib_module_names and top != "__future__":
            (lazy if is_lazy else eager).add(top)
    return eager, lazy - eager


def distribution(module: str) -> str:
    (name, *_) = packages_distributions()[module]
    return canonicalize_name(name)


def test_every_package_the_handlers_can_import_is_in_the_runtime_lock() -> None:
    # Given every third-party module the three handlers reach (lazy imports in functions included)
    handlers = [handler.rpartition(".")[0] for handler in (API_HANDLER, WORKER_HANDLER, DLQ_HANDLER)]
    eager, lazy = third_party_imports(*handlers)
    runtime = lock_pins("runtime-requirements.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    build_only = {canonicalize_name(Requirement(r).name) for r in project["optional-dependencies"]["build"]}
    assert {"torch", "boto3", "aws_lambda_powertools", "PIL", "pillow_heif"} <= eager | lazy
    # Then each one imported when a module loads comes from a package of the runtime lock
    missing = sorted(m for m in eager if distribution(m) not in runtime)
    assert not missing, (
        f"imported by the handlers but not in requirements/runtime-requirements.txt: {missing}"
    )
    # And one imported only inside a function is in it too, or is one of the build-time packages the
    # weight import needs (`stylemixer weights build`, never a handler's path: see test_dockerfile.py)
    missing = sorted(m for m in lazy if distribution(m) not in runtime and distribution(m) not in build_only)
    assert not missing, f"imported lazily by the handlers' modules but in no lock layer they get: {missing}"


def test_the_locks_layers_agree_and_the_torch_entry_is_the_runtime_layers() -> None:
    runtime, build, dev = (lock_pins(f"{name}-requirements.txt") for name in ("runtime", "build", "dev"))
    # Then each layer holds the one before it, at the same versions
    assert runtime.items() <= build.items()
    assert build.items() <= dev.items()
    # And the torch file is the runtime layer's torch entry, hashes and all
    entry = script("lock").torch_entry((LOCK / "runtime-requirements.txt").read_text(encoding="utf-8"))
    assert entry in (LOCK / "torch-requirements.txt").read_text(encoding="utf-8")
    assert entry.startswith(f"torch=={runtime['torch']} \\\n    --hash=sha256:")
    # And every pin has a hash, and no machine's index or folder is written in
    for path in LOCK.glob("*-requirements.txt"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^[A-Za-z0-9._-]+==\S+\s*$", text, re.MULTILINE), (
            f"{path.name}: a pin without hash"
        )
        assert not re.search(r"--(extra-)?index-url|--find-links|file://", text), path.name


def test_the_makefile_installs_the_lock_by_hash_and_nothing_else() -> None:
    # Given the recipe that makes the virtual environment
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    variables = dict(re.findall(r"^(\w+) :?= (.*)$", makefile, re.MULTILINE))
    recipe = re.search(r"^\$\(STAMPS\)/venv:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "no recipe for $(STAMPS)/venv"
    lines = recipe.group(1)
    for _ in range(3):  # expand $(NAME) the way make would, a few levels deep
        lines = re.sub(r"\$\((\w+)\)", lambda m: variables.get(m.group(1), m.group(0)), lines)
    installs = [line for line in lines.splitlines() if "pip install" in line]
    # Then every install is in hash-checking mode from a lock file, except the project itself,
    # installed without resolving anything (no dependency, no build isolation)
    for line in installs:
        for command in line.split("||"):
            if "-e ." in command:
                assert "--no-deps" in command, command
                assert "--no-build-isolation" in command, command
            else:
                assert "--require-hashes" in command, command
                assert re.search(r"-r requirements/\w+-requirements\.txt", command), command
    assert any("-r requirements/dev-requirements.txt" in line for line in installs)
    # And torch comes first, alone, from the machine's indexes or else from PyTorch's CPU index only
    assert "-r requirements/torch-requirements.txt" in installs[0]
    fallback = installs[0].split("||")[1]
    assert "--index-url https://download.pytorch.org/whl/cpu" in fallback
    assert "--no-deps" in fallback
    # And the set-up reruns when the lock changes
    assert "$(LOCK)" in re.search(r"^\$\(STAMPS\)/venv:(.*)$", makefile, re.MULTILINE).group(1)


def test_the_upgrade_step_names_what_moved_and_what_failed(tmp_path: Path) -> None:
    upgrade = script("upgrade_lock")
    # Given a make test log with a lint failure and two failed tests
    log = tmp_path / "make-test.log"
    log.write_text(
        "FAILED tests/unit/test_a.py::test_one - assert 1 == 2\n"
        "ERROR tests/e2e/test_b.py::test_two\n"
        "=== 1 failed, 1 error ===\n"
        "make: *** [Makefile:60: test] Error 1\n",
        encoding="utf-8",
    )
    # Then the report names each of them once
    report = upgrade.failures(log)
    assert report.splitlines()[0].startswith("ERROR tests/e2e/test_b.py::test_two")
    assert "FAILED tests/unit/test_a.py::test_one" in report
    assert "make: *** [Makefile:60: test] Error 1" in report
    # And the moved pins are read from lock files
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "x-requirements.txt").write_text("moto==5.2.5 \\\n    --hash=sha256:aa\n", encoding="utf-8")
    (new / "x-requirements.txt").write_text("moto==5.2.6 \\\n    --hash=sha256:bb\n", encoding="utf-8")
    assert upgrade.changes(upgrade.pins(old), upgrade.pins(new)) == ["moto 5.2.5 -> 5.2.6"]


@pytest.mark.parametrize("name", ["lock", "upgrade_lock"])
def test_the_lock_scripts_answer_help(name: str) -> None:
    with pytest.raises(SystemExit) as stopped:
        script(name).main(["--help"])
    assert stopped.value.code == 0
