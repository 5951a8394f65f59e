"""The StyleMixer CDK app: one construct per concern, and a stack that only composes them."""

from __future__ import annotations

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from stylemixer_cdk.config import ContextError, StackConfig
from stylemixer_cdk.stack import StyleMixerStack

__all__ = ["ContextError", "StackConfig", "StyleMixerStack", "build_app"]


def build_app(app: App, *, nag: bool = True) -> StyleMixerStack:
    """Read the settings from the app's context, add the stack, and (by default) the cdk-nag checks.

    Example:
        >>> stack = build_app(App(context={"stage": "test"}))  # doctest: +SKIP
    """
    config = StackConfig.from_context(app.node.get_all_context() or {})
    stack = StyleMixerStack(app, f"StyleMixer-{config.stage}", config=config)
    if nag:
        Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack
