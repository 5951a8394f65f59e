"""The StyleMixer CDK app: one construct per concern, and a stack that only composes them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import App, Aspects
from cdk_nag import AwsSolutionsChecks

from stylemixer_cdk.config import ContextError, StackConfig
from stylemixer_cdk.stack import StyleMixerStack

if TYPE_CHECKING:
    from stylemixer_cdk.pipeline import PipelineStack

__all__ = ["ContextError", "StackConfig", "StyleMixerStack", "build_app", "build_pipeline_app"]


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


def build_pipeline_app(
    app: App, *, default_account: str | None, default_region: str | None, nag: bool = True
) -> PipelineStack:
    """Add the optional delivery pipeline stack (and, by default, the cdk-nag checks).

    Example:
        >>> build_pipeline_app(App(context=...), default_account=None, default_region=None)  # doctest: +SKIP
    """
    from stylemixer_cdk.pipeline import (
        PIPELINE_STACK,
        PipelineConfig,
        PipelineStack,
        pipeline_env,
        service_settings,
    )

    context = app.node.get_all_context() or {}
    config = PipelineConfig.from_context(context)
    stack = PipelineStack(
        app,
        PIPELINE_STACK,
        config=config,
        service_context=service_settings(context),
        env=pipeline_env(config, default_account, default_region),
    )
    if nag:
        Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack
