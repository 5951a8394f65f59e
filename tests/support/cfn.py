"""Reading a synthesized CloudFormation template in tests: expressions as text, statements by role."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any

from tests.support.paths import ROOT

if TYPE_CHECKING:
    from pathlib import Path


def render(expr: Any) -> str:
    """A CloudFormation expression as readable text: ``<Bucket.Arn>/uploads/*``.

    Example:
        >>> render({"Fn::Join": ["", [{"Fn::GetAtt": ["B", "Arn"]}, "/x"]]})
        '<B.Arn>/x'
    """
    if isinstance(expr, str):
        return expr
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, arg),) = expr.items()
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::Join":
            return arg[0].join(render(p) for p in arg[1])
        if fn == "Fn::Sub":
            return arg if isinstance(arg, str) else arg[0]
    return json.dumps(expr, sort_keys=True)


def statements(cfn: dict[str, Any], role_logical_id: str) -> list[tuple[frozenset[str], frozenset[str]]]:
    """Every Allow statement of the inline policies attached to one role: (actions, resources).

    Example:
        >>> statements({"Resources": {}}, "Role")
        []
    """
    found: list[tuple[frozenset[str], frozenset[str]]] = []
    for resource in cfn["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy":
            continue
        props = resource["Properties"]
        if {"Ref": role_logical_id} not in props.get("Roles", []):
            continue
        for st in props["PolicyDocument"]["Statement"]:
            assert st["Effect"] == "Allow"
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            found.append((frozenset(actions), frozenset(render(r) for r in resources)))
    return found


def permissions(cfn: dict[str, Any], role_logical_id: str) -> dict[str, set[str]]:
    """Action -> the resources it is allowed on, for one role (no statement may use NotAction)."""
    allowed: dict[str, set[str]] = {}
    for actions, resources in statements(cfn, role_logical_id):
        for action in actions:
            allowed.setdefault(action, set()).update(resources)
    return allowed


def nag_suppressions(cfn: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every cdk-nag suppression in a template, with the logical id of the resource it sits on."""
    return [
        (logical_id, rule)
        for logical_id, resource in cfn["Resources"].items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]


def cdk_context() -> dict[str, Any]:
    """The context an operator's ``cdk deploy`` starts from: ``cdk.json``'s."""
    return json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]


def run_cdk_entry(script: str, context: dict[str, Any], outdir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``cdk/<script>`` the way the CDK CLI does: a child process, context in CDK_CONTEXT_JSON."""
    env = {**os.environ, "CDK_CONTEXT_JSON": json.dumps(context), "CDK_OUTDIR": str(outdir)}
    return subprocess.run(
        [sys.executable, str(ROOT / "cdk" / script)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
