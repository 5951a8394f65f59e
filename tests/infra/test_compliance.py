"""cdk-nag (AwsSolutions), cfn-lint and hadolint: zero unsuppressed findings, zero errors."""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from tests.support.cfn import nag_suppressions
from tests.support.paths import ROOT

if TYPE_CHECKING:
    from pathlib import Path

    from tests.infra.conftest import Synth

pytestmark = pytest.mark.infra

BIN = ROOT / ".venv" / "bin"


def _findings(synth: Synth, level: str) -> list[str]:
    from aws_cdk.assertions import Annotations, Match

    annotations = Annotations.from_stack(synth.stack)
    find = annotations.find_error if level == "error" else annotations.find_warning
    return [
        f"{m.id}: {str(m.entry.data)[:160]}" for m in find("*", Match.string_like_regexp("AwsSolutions-.*"))
    ]


def test_cdk_nag_reports_no_unsuppressed_error(every_synth: Synth) -> None:
    assert _findings(every_synth, "error") == []


def test_cdk_nag_reports_no_unsuppressed_warning(every_synth: Synth) -> None:
    assert _findings(every_synth, "warning") == []


def test_every_suppression_has_a_reason_and_sits_on_a_resource(every_synth: Synth) -> None:
    synth = every_synth
    # Given every cdk-nag suppression in the template
    suppressions = nag_suppressions(synth.cfn)
    # Then there are some (the checks ran), each with a reason a reviewer can weigh
    assert suppressions
    for logical_id, rule in suppressions:
        assert rule["id"].startswith("AwsSolutions-"), logical_id
        assert len(rule["reason"]) >= 40, (logical_id, rule)
    # And none is stack-wide
    assert "cdk_nag" not in synth.cfn.get("Metadata", {})
    # And the wildcard suppressions name the wildcards they accept
    for logical_id, rule in suppressions:
        if rule["id"] == "AwsSolutions-IAM5":
            assert rule.get("applies_to"), logical_id


def test_cfn_lint_finds_no_error(every_synth: Synth, tmp_path: Path) -> None:
    # Given the synthesized template in a file
    template = tmp_path / "template.json"
    template.write_text(json.dumps(every_synth.cfn), encoding="utf-8")
    # When cfn-lint checks it
    run = subprocess.run(
        [str(BIN / "cfn-lint"), "--format", "parseable", "--", str(template)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    # Then it reports no error (exit bit 2) and did not crash (bit 1); warnings are allowed
    assert run.returncode & 0b11 == 0, run.stdout + run.stderr
    errors = [line for line in run.stdout.splitlines() if ":E" in line]
    assert errors == []


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    run = subprocess.run(
        [str(BIN / "hadolint"), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.strip() == ""


def test_the_nag_check_itself_catches_a_finding(tmp_path: Path) -> None:
    # Given a stack with one bucket that breaks AwsSolutions rules and no suppression
    from aws_cdk import App, Aspects, Stack
    from aws_cdk import aws_s3 as s3
    from aws_cdk.assertions import Annotations, Match
    from cdk_nag import AwsSolutionsChecks

    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Probe")
    s3.Bucket(stack, "Loose")
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    # When the same query as above looks for findings
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    # Then it finds them (so an empty list above means something)
    assert {m.entry.data.split(":")[0] for m in errors} >= {"AwsSolutions-S1", "AwsSolutions-S10"}
