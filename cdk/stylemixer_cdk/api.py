"""API: an API Gateway HTTP API in front of the API function, throttled per route, with access logs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import jsii
from aws_cdk import Aws, RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from stylemixer.resources import API_ROUTES, READ_ROUTES, WRITE_ROUTES
from stylemixer_cdk.nag import suppress

if TYPE_CHECKING:
    from aws_cdk import aws_lambda as lambda_

    from stylemixer_cdk.config import StackConfig

#: One JSON line per request: what an operator needs to follow a request into the function's logs.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
}


class Api(Construct):
    """The public HTTP API.

    CORS is answered by the API function (Powertools' resolver, from ``STYLEMIXER_ALLOWED_ORIGINS``)
    rather than by API Gateway: the site's origin is CloudFront's domain, and the site's content
    security policy names this API, so API Gateway's own CORS setting would make the two depend on
    each other. The local stack answers CORS the same way, from the same code.
    """

    def __init__(
        self, scope: Construct, id_: str, *, config: StackConfig, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, id_)
        integration = HttpLambdaIntegration("ApiFunction", function)
        self.http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            description="StyleMixer HTTP API",
            create_default_stage=False,
            default_integration=integration,
        )
        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=config.log_retention, removal_policy=RemovalPolicy.DESTROY
        )
        self.stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=config.api_rate_limit, burst_limit=config.api_burst_limit
            ),
            access_log_settings=_AccessLogSettings(
                apigwv2.LogGroupLogDestination(self.access_logs),
                apigw.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FORMAT)),
            ),
        )
        # Each route of the contract (stylemixer.resources.API_ROUTES, which the function serves; its
        # OpenAPI document lists the same). Everything else (CORS preflights, a wrong method, an
        # unknown path) takes the ``$default`` route to the same function, which answers in the API's
        # own error shape (405, 404) exactly as the local stack does, rather than with API Gateway's
        # bare ``{"message":"Not Found"}``.
        routes = [self.http_api.node.find_child("DefaultRoute")]
        for method, path in API_ROUTES:
            routes += self.http_api.add_routes(
                path=path, methods=[apigwv2.HttpMethod(method)], integration=integration
            )
        self._throttle_routes(config, routes)
        for route in routes:
            suppress(
                route,
                "AwsSolutions-APIG4",
                "The service is public and anonymous by design: a job is reachable only by its "
                "unguessable id (its photo and its deletion only with its owner token), uploads only "
                "through short-lived presigned POSTs; each route is throttled, and the API counts "
                "each client's uploads and jobs against its limits.",
                children=True,
            )

    def _throttle_routes(self, config: StackConfig, routes: list[Construct]) -> None:
        """Each route's own throttle (the stage's route settings); the stage waits for its routes,
        since CloudFormation refuses settings for a route that does not exist yet."""
        read = {
            "ThrottlingRateLimit": config.api_read_rate_limit,
            "ThrottlingBurstLimit": config.api_read_burst_limit,
        }
        write = {
            "ThrottlingRateLimit": config.api_write_rate_limit,
            "ThrottlingBurstLimit": config.api_write_burst_limit,
        }
        settings = {route.key: read for route in READ_ROUTES} | {route.key: write for route in WRITE_ROUTES}
        stage = self.stage.node.default_child
        assert isinstance(stage, apigwv2.CfnStage)
        stage.add_property_override("RouteSettings", settings)
        for route in routes:
            stage.node.add_dependency(route)

    @property
    def endpoint(self) -> str:
        """``https://<id>.execute-api.<region>.amazonaws.com``: the API's origin and base URL."""
        return self.http_api.api_endpoint

    @property
    def domain(self) -> str:
        """``<id>.execute-api.<region>.amazonaws.com``: the API's host, for a CloudFront origin."""
        return f"{self.http_api.api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}"


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """``IAccessLogSettings`` is a jsii interface, so Python implements it with a small class."""

    def __init__(self, destination: apigwv2.IAccessLogDestination, fmt: apigw.AccessLogFormat) -> None:
        self._destination = destination
        self._format = fmt

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw.AccessLogFormat:
        return self._format
