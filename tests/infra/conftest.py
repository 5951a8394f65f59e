"""Synthesize the stack once per session (tens of seconds) for every infrastructure test.

Synthesis runs in-process with ``aws_cdk.App`` and the context of the repository's ``cdk.json``,
with cdk-nag's AwsSolutions checks attached: no Docker, no AWS credentials, no network. The image
asset is only staged (its build context copied), never built.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.paths import ROOT

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

for path in (str(ROOT), str(ROOT / "cdk")):
    if path not in sys.path:
        sys.path.insert(0, path)


if TYPE_CHECKING:
    from pathlib import Path

    from aws_cdk import assertions
    from stylemixer_cdk import StyleMixerStack


@dataclass(frozen=True)
class Synth:
    """One synthesized stack and the views the tests read it through."""

    stack: StyleMixerStack
    template: assertions.Template
    cfn: dict[str, Any]
    outdir: Path

    def logical_id(self, construct: Any) -> str:
        """The logical id of an L2 construct's main resource (or of a CfnElement)."""
        element = getattr(construct.node, "default_child", None) or construct
        return self.stack.resolve(self.stack.get_logical_id(element))

    def resources(self, type_: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.cfn["Resources"].items() if v["Type"] == type_}

    def props(self, construct: Any) -> dict[str, Any]:
        return self.cfn["Resources"][self.logical_id(construct)].get("Properties", {})


def _synthesize(outdir: Path, **context: Any) -> Synth:
    from aws_cdk import App, assertions
    from stylemixer_cdk import build_app

    from tests.support.cfn import cdk_context

    app = App(context={**cdk_context(), **context}, outdir=str(outdir))
    stack = build_app(app, nag=True)
    template = assertions.Template.from_stack(stack)
    return Synth(stack=stack, template=template, cfn=template.to_json(), outdir=outdir)


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """Given the app with cdk.json's context and cdk-nag, when synthesized, then this is the result."""
    return _synthesize(tmp_path_factory.mktemp("cdk.out"))


#: A production stage with the optional firewall: the API behind the site, an e-mail for alarms.
PROD_WITH_FIREWALL = {"stage": "prod", "alarm_email": "ops@example.org", "waf_enabled": True}


@pytest.fixture(scope="session")
def synth_prod(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The app synthesized for :data:`PROD_WITH_FIREWALL` (with cdk-nag, as :func:`synth`)."""
    return _synthesize(tmp_path_factory.mktemp("cdk.out.prod"), **PROD_WITH_FIREWALL)


@pytest.fixture(params=["synth", "synth_prod"], ids=["dev", "prod-with-firewall"])
def every_synth(request: pytest.FixtureRequest) -> Synth:
    """Each synthesized variant in turn: the defaults, and production with the firewall."""
    return request.getfixturevalue(request.param)
