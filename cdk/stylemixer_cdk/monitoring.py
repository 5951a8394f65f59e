"""Monitoring: alarms into one SNS topic (with an e-mail subscription) and a dashboard.

Each alarm answers one question an operator has; ``docs/operators.md`` says what each means and
what to do. Missing data counts as fine: a service at rest sends no metrics. Every alarm is named
``StyleMixer-<stage>-<Alarm>``, and the topic's policy lets CloudWatch publish for exactly those
alarms of this account (and refuses plain HTTP); the service's own metrics carry the stage as a
dimension, so two stages in one account never share a series, an alarm or a dashboard line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_cdk import Annotations, ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stylemixer.resources import (
    METRIC_CPU_UTILIZATION,
    METRIC_JOBS_FAILED,
    METRIC_JOBS_SUBMITTED,
    METRIC_JOBS_SUCCEEDED,
    METRIC_MEMORY_UTILIZATION,
    METRIC_QUEUE_WAIT_SECONDS,
    METRIC_REQUESTS_REFUSED,
    METRIC_STYLIZE_SECONDS,
    METRICS_NAMESPACE,
    SERVICE_NAME,
)
from stylemixer_cdk.nag import suppress

if TYPE_CHECKING:
    from aws_cdk import aws_apigatewayv2 as apigwv2
    from aws_cdk import aws_lambda as lambda_

    from stylemixer_cdk.config import StackConfig
    from stylemixer_cdk.jobs import Jobs

FIVE_MINUTES = Duration.minutes(5)
#: The worker-duration alarm fires at this share of the worker's timeout.
DURATION_ALARM_SHARE = 0.9
#: The CPU alarm wants this many five-minute periods in a row above its threshold (15 minutes).
CPU_ALARM_PERIODS = 3


def service_metric(
    name: str, stage: str, statistic: str = "Average", unit: cw.Unit | None = None
) -> cw.Metric:
    """A metric the functions emit as EMF, with its ``service`` and ``stage`` dimensions.

    Example:
        >>> service_metric(METRIC_JOBS_SUCCEEDED, "prod", "Sum").dimensions
        {'service': 'stylemixer', 'stage': 'prod'}
    """
    return cw.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": SERVICE_NAME, "stage": stage},
        statistic=statistic,
        period=FIVE_MINUTES,
        unit=unit,
    )


def summed_over_reasons(name: str, stage: str) -> cw.MathExpression:
    """A metric the functions emit with a ``reason`` as a third dimension (``JobsFailed``,
    ``RequestsRefused``), summed over every reason, per 5 minutes."""
    return cw.MathExpression(
        expression=(
            "SUM(SEARCH('"
            f"{{{METRICS_NAMESPACE},reason,service,stage}} "
            f'MetricName="{name}" stage="{stage}"'
            "', 'Sum', 300))"
        ),
        label=name,
        period=FIVE_MINUTES,
    )


def alarm_name_prefix(stage: str) -> str:
    """What every alarm of a stage is named with: ``StyleMixer-<stage>-``."""
    return f"StyleMixer-{stage}-"


@dataclass(frozen=True)
class Watched:
    """What the monitoring looks at, built by the other constructs."""

    http_api: apigwv2.HttpApi
    api: lambda_.IFunction
    worker: lambda_.IFunction
    dead_letters: lambda_.IFunction
    sweeper: lambda_.IFunction
    jobs: Jobs


class Monitoring(Construct):
    """The alarm topic, the alarms, and the dashboard."""

    def __init__(self, scope: Construct, id_: str, *, config: StackConfig, watched: Watched) -> None:
        super().__init__(scope, id_)
        self._config = config
        self._prefix = alarm_name_prefix(config.stage)
        self.topic = sns.Topic(self, "AlarmTopic", display_name="StyleMixer alarms", enforce_ssl=True)
        # enforce_ssl replaces SNS's default policy with a single Deny; without this statement no
        # alarm could publish ("not authorized to perform: SNS:Publish"). Only this account's
        # alarms of this stage may, so no other account's or stack's alarm can use the topic.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowThisStagesAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": Stack.of(self).format_arn(
                            service="cloudwatch",
                            resource="alarm",
                            resource_name=f"{self._prefix}*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    },
                },
            )
        )
        suppress(
            self.topic,
            "AwsSolutions-SNS2",
            "Alarm notifications carry no customer data. CloudWatch cannot publish to a topic "
            "encrypted with the AWS-managed SNS key, and a customer-managed key costs 1 USD a month "
            "at rest.",
        )
        if config.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(config.alarm_email))
        else:  # only a dev stage gets here (StackConfig refuses any other without an address)
            Annotations.of(self.topic).add_warning_v2(
                "stylemixer:NoAlarmEmail",
                f"Stage {config.stage!r} has no alarm_email: its alarms reach no one. "
                "Give -c alarm_email=you@example.org to be told.",
            )
        self._action = cw_actions.SnsAction(self.topic)
        self.alarms: list[cw.Alarm] = []

        w = watched
        queue, dlq = w.jobs.queue, w.jobs.dead_letters
        stage = config.stage
        # The seed's three. CPU is of the vCPUs Lambda allocates for the worker's memory; a busy
        # worker keeps them busy while it paints, so only all of them busy for 15 minutes fires.
        self.worker_cpu = self._alarm(
            "WorkerCpu",
            service_metric(METRIC_CPU_UTILIZATION, stage),
            config.worker_cpu_alarm_percent,
            "Worker CPU above {t} % of its vCPUs for 15 minutes: jobs are limited by the CPU they are "
            "given; if jobs take too long, raise worker_memory_mb (Lambda gives CPU in proportion).",
            periods=CPU_ALARM_PERIODS,
        )
        # Memory is each invocation's own peak: one job near the limit is worth knowing about.
        self.worker_memory = self._alarm(
            "WorkerMemory",
            service_metric(METRIC_MEMORY_UTILIZATION, stage, "Maximum"),
            config.worker_memory_alarm_percent,
            "A worker invocation peaked above {t} % of its memory: the largest pictures come close "
            "to the limit; raise worker_memory_mb before jobs fail for lack of memory.",
        )
        # Requests: most are the page's polls of GET /jobs/{job_id}; near that route's throttle,
        # people's polls are about to be refused (429), which a raised api_read_rate_limit cures.
        near_throttle = config.api_requests_alarm_percent / 100 * config.api_read_rate_limit * 300
        self.api_requests = self._alarm(
            "ApiNearThrottle",
            w.http_api.metric_count(period=FIVE_MINUTES, statistic="Sum"),
            round(near_throttle),
            "More than {t} API requests in 5 minutes, "
            f"{config.api_requests_alarm_percent:g} % of what GET /jobs/{{{{job_id}}}} is throttled to: "
            "the page's polls will soon be refused; raise api_read_rate_limit, or see the access "
            "logs for one address sending most of them (then consider waf_enabled).",
        )
        # Jobs: more submitted than the workers finish in the same 5 minutes grows the queue, and
        # admission control soon answers busy: a rush of people, or someone at their limits.
        self.jobs_submitted = self._alarm(
            "JobsSubmitted",
            service_metric(METRIC_JOBS_SUBMITTED, stage, "Sum"),
            config.jobs_submitted_alarm,
            "More than {t} jobs submitted in 5 minutes, more than the workers finish in that time: "
            "the queue is growing and POST /jobs will answer busy; see RequestsRefused on the "
            "dashboard, and raise worker_max_concurrency if the demand is real.",
        )
        # Failures.
        self.api_5xx = self._alarm(
            "Api5xx",
            w.http_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
            0,
            "The API answered with a server error (5xx): a bug or an outage; see the API function's logs.",
        )
        functions = (
            ("Api", w.api),
            ("Worker", w.worker),
            ("DeadLetters", w.dead_letters),
            ("Sweeper", w.sweeper),
        )
        for name, fn in functions:
            self._alarm(
                f"{name}Errors",
                fn.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                0,
                f"The {name} function failed (an unhandled error or a timeout); see its logs.",
            )
            self._alarm(
                f"{name}Throttles",
                fn.metric_throttles(period=FIVE_MINUTES, statistic="Sum"),
                0,
                f"The {name} function was throttled: the account's concurrency is exhausted.",
            )
        duration_ms = DURATION_ALARM_SHARE * config.worker_timeout_seconds * 1000
        self.worker_duration = self._alarm(
            "WorkerDuration",
            w.worker.metric_duration(period=FIVE_MINUTES, statistic="Maximum"),
            duration_ms,
            f"A worker run took over {DURATION_ALARM_SHARE:.0%} of its {config.worker_timeout_seconds} s "
            "timeout: large jobs will soon time out; raise worker_memory_mb or lower the size limit.",
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )
        # A message reaches the dead-letter queue and its consumer takes it at once, so "visible"
        # alone can miss it; messages received from the DLQ count it too.
        dead_letters = cw.MathExpression(
            expression="FILL(visible, 0) + FILL(received, 0)",
            using_metrics={
                "visible": dlq.metric_approximate_number_of_messages_visible(
                    period=FIVE_MINUTES, statistic="Maximum"
                ),
                "received": dlq.metric_number_of_messages_received(period=FIVE_MINUTES, statistic="Sum"),
            },
            label="Dead letters",
            period=FIVE_MINUTES,
        )
        self.dead_letter_alarm = self._alarm(
            "DeadLetters",
            dead_letters,
            1,
            "A job's message gave up after its retries and reached the dead-letter queue; the job was "
            "marked failed. See the worker's logs for the job id.",
            comparison=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        )
        self.oldest_message = self._alarm(
            "OldestQueuedJob",
            queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES, statistic="Maximum"),
            config.oldest_message_alarm_seconds,
            "A job has waited over {t} s in the queue: workers cannot keep up; raise worker_max_concurrency.",
        )

        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=f"StyleMixer-{config.stage}-{Aws.REGION}",
            default_interval=Duration.hours(3),
        )
        self._widgets(w, stage)

    def _alarm(
        self,
        id_: str,
        metric: cw.IMetric,
        threshold: float,
        description: str,
        *,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
        periods: int = 1,
    ) -> cw.Alarm:
        alarm = cw.Alarm(
            self,
            id_,
            alarm_name=f"{self._prefix}{id_}",
            metric=metric,
            threshold=threshold,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            comparison_operator=comparison,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description.format(t=f"{threshold:g}"),
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms.append(alarm)
        return alarm

    def _widgets(self, w: Watched, stage: str) -> None:
        queue, dlq = w.jobs.queue, w.jobs.dead_letters

        def graph(title: str, *metrics: cw.IMetric, right: list[cw.IMetric] | None = None) -> cw.GraphWidget:
            return cw.GraphWidget(title=title, left=list(metrics), right=right or [], width=8, height=6)

        self.dashboard.add_widgets(
            cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24, height=4),
        )
        self.dashboard.add_widgets(
            graph(
                "Jobs",
                service_metric(METRIC_JOBS_SUBMITTED, stage, "Sum"),
                service_metric(METRIC_JOBS_SUCCEEDED, stage, "Sum"),
                summed_over_reasons(METRIC_JOBS_FAILED, stage),
            ),
            graph(
                "Job time (s)",
                service_metric(METRIC_STYLIZE_SECONDS, stage, "p50"),
                service_metric(METRIC_STYLIZE_SECONDS, stage, "p99"),
                service_metric(METRIC_QUEUE_WAIT_SECONDS, stage, "p99"),
            ),
            graph(
                "Worker CPU and memory (%)",
                service_metric(METRIC_CPU_UTILIZATION, stage, "Maximum"),
                service_metric(METRIC_MEMORY_UTILIZATION, stage, "Maximum"),
            ),
        )
        self.dashboard.add_widgets(
            graph(
                "API requests and errors",
                w.http_api.metric_count(period=FIVE_MINUTES, statistic="Sum"),
                w.http_api.metric_client_error(period=FIVE_MINUTES, statistic="Sum"),
                w.http_api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
                # Refusals of a client's limits or of a busy queue (429, 503), every reason summed.
                right=[summed_over_reasons(METRIC_REQUESTS_REFUSED, stage)],
            ),
            graph("API latency (ms)", w.http_api.metric_latency(period=FIVE_MINUTES, statistic="p99")),
            graph(
                "Queue",
                queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                dlq.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES),
                right=[queue.metric_approximate_age_of_oldest_message(period=FIVE_MINUTES)],
            ),
        )
        self.dashboard.add_widgets(
            *(
                graph(
                    f"{name} function",
                    fn.metric_invocations(period=FIVE_MINUTES),
                    fn.metric_errors(period=FIVE_MINUTES),
                    fn.metric_throttles(period=FIVE_MINUTES),
                    right=[fn.metric_duration(period=FIVE_MINUTES, statistic="Maximum")],
                )
                for name, fn in (
                    ("API", w.api),
                    ("Worker", w.worker),
                    ("Dead-letter", w.dead_letters),
                    ("Sweeper", w.sweeper),
                )
            )
        )
