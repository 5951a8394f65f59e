"""The StyleMixer stack: it only composes the constructs, wires them together, and names its outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import Aws, CfnOutput, Fn, Stack, Tags

from stylemixer.resources import (
    ENV_ALLOWED_ORIGINS,
    ENV_ORIGIN_VERIFY,
    ENV_SITE_URL,
    OUTPUT_API_URL,
    OUTPUT_DASHBOARD,
    OUTPUT_DATA_BUCKET,
    OUTPUT_SITE_URL,
)
from stylemixer_cdk.admission import Admission
from stylemixer_cdk.api import Api
from stylemixer_cdk.billing import Billing
from stylemixer_cdk.firewall import Firewall
from stylemixer_cdk.functions import Functions
from stylemixer_cdk.jobs import Jobs
from stylemixer_cdk.monitoring import Monitoring, Watched
from stylemixer_cdk.site import ApiBehindSite, Site
from stylemixer_cdk.storage import Storage

if TYPE_CHECKING:
    from constructs import Construct

    from stylemixer_cdk.config import StackConfig


class StyleMixerStack(Stack):
    """The whole service in one stack.

    Example:
        >>> StyleMixerStack(App(), "StyleMixer-dev", config=StackConfig())  # doctest: +SKIP
    """

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig, **kwargs: Any) -> None:
        super().__init__(scope, id_, description="StyleMixer: serverless neural style transfer", **kwargs)
        Tags.of(self).add("project", "stylemixer")
        Tags.of(self).add("stage", config.stage)

        storage = Storage(self, "Storage", config=config)
        jobs = Jobs(self, "Jobs", config=config)
        admission = Admission(self, "Admission", config=config)
        functions = Functions(
            self, "Functions", config=config, storage=storage, jobs=jobs, admission=admission
        )
        api = Api(self, "Api", config=config, function=functions.api)
        # With the firewall, the API is served behind the site's distribution, which proves each
        # request came through it with a value only this stack knows (its stack id's UUID).
        firewall = Firewall(self, "Firewall", config=config) if config.waf_enabled else None
        api_behind = None
        if firewall is not None:
            origin_verify = Fn.select(2, Fn.split("/", Aws.STACK_ID))
            api_behind = ApiBehindSite(
                domain=api.domain, origin_verify=origin_verify, web_acl_arn=firewall.arn
            )
            functions.api.add_environment(ENV_ORIGIN_VERIFY, origin_verify)
        site = Site(
            self,
            "Site",
            config=config,
            api_url=api.endpoint,
            data_origins=storage.regional_origins(),
            logs_bucket=storage.access_logs,
            api_behind=api_behind,
        )

        # The site's origin is known only once CloudFront has named it: give it to the bucket's CORS
        # rule and to the API function, which answers CORS and makes thumbnail URLs absolute.
        origins = [site.url, *config.allowed_origins]
        storage.allow_origins(origins)
        functions.api.add_environment(ENV_ALLOWED_ORIGINS, ",".join(origins))
        functions.api.add_environment(ENV_SITE_URL, site.url)

        monitoring = Monitoring(
            self,
            "Monitoring",
            config=config,
            watched=Watched(
                http_api=api.http_api,
                api=functions.api,
                worker=functions.worker,
                dead_letters=functions.dead_letters,
                sweeper=functions.sweeper,
                jobs=jobs,
            ),
        )
        billing = Billing(self, "Billing", config=config)
        self.storage, self.jobs, self.admission, self.functions = storage, jobs, admission, functions
        self.api, self.site, self.monitoring, self.billing = api, site, monitoring, billing
        self.firewall = firewall

        CfnOutput(self, OUTPUT_SITE_URL, value=site.url, description="The web page")
        CfnOutput(self, OUTPUT_API_URL, value=api.endpoint, description="The HTTP API's base URL")
        CfnOutput(self, OUTPUT_DATA_BUCKET, value=storage.data.bucket_name, description="Uploads and results")
        CfnOutput(
            self,
            OUTPUT_DASHBOARD,
            value=monitoring.dashboard.dashboard_name,
            description="The CloudWatch dashboard",
        )
