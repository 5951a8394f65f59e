"""The StyleMixer stack: it only composes the constructs, wires them together, and names its outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_cdk import CfnOutput, Stack, Tags

from stylemixer.resources import (
    ENV_ALLOWED_ORIGINS,
    ENV_SITE_URL,
    OUTPUT_API_URL,
    OUTPUT_DASHBOARD,
    OUTPUT_DATA_BUCKET,
    OUTPUT_SITE_URL,
)
from stylemixer_cdk.api import Api
from stylemixer_cdk.functions import Functions
from stylemixer_cdk.jobs import Jobs
from stylemixer_cdk.monitoring import Monitoring, Watched
from stylemixer_cdk.site import Site
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
        functions = Functions(self, "Functions", config=config, storage=storage, jobs=jobs)
        api = Api(self, "Api", config=config, function=functions.api)
        site = Site(
            self,
            "Site",
            config=config,
            api_url=api.endpoint,
            data_origins=storage.regional_origins(),
            logs_bucket=storage.access_logs,
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
                jobs=jobs,
            ),
        )
        self.storage, self.jobs, self.functions = storage, jobs, functions
        self.api, self.site, self.monitoring = api, site, monitoring

        CfnOutput(self, OUTPUT_SITE_URL, value=site.url, description="The web page")
        CfnOutput(self, OUTPUT_API_URL, value=api.endpoint, description="The HTTP API's base URL")
        CfnOutput(self, OUTPUT_DATA_BUCKET, value=storage.data.bucket_name, description="Uploads and results")
        CfnOutput(
            self,
            OUTPUT_DASHBOARD,
            value=monitoring.dashboard.dashboard_name,
            description="The CloudWatch dashboard",
        )
