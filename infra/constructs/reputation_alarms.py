"""Alarms on the account's SES sending reputation: the bounce and complaint rates AWS reviews.

The metrics are account-wide (namespace AWS/SES, no dimensions): SES publishes them for every
account that sends, whatever configuration set a send used, and an account under review stops
every send of every user. Each rate gets an early warning at a fraction of the review threshold and
an alarm at the threshold itself (infra/tuning.py says why); both point the operator at the runbook.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

NAMESPACE = "AWS/SES"
RUNBOOK = 'docs/deployment.md, "When a reputation alarm fires"'


@dataclass(frozen=True)
class ReputationRate:
    construct_id: str
    metric_name: str
    label: str
    review_threshold: float


def _percent(rate: float) -> str:
    return f"{rate * 100:g}%"


class ReputationAlarms(Construct):
    """For each rate: `<Id>Warning` at `early_fraction` of the review threshold, `<Id>Review` at it."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        rates: tuple[ReputationRate, ...],
        early_fraction: float,
        period: Duration,
        alarm_topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        for rate in rates:
            metric = cloudwatch.Metric(
                namespace=NAMESPACE,
                metric_name=rate.metric_name,
                period=period,
                statistic=cloudwatch.Stats.MAXIMUM,
            )
            early = rate.review_threshold * early_fraction
            levels = {
                "Warning": (
                    early,
                    f"The account's SES {rate.label} rate reached {_percent(early)}, "
                    f"{early_fraction:.0%} of the {_percent(rate.review_threshold)} at which AWS puts "
                    "the account under review. Find the attendees concerned and stop the cause "
                    f"before it climbs: {RUNBOOK}.",
                ),
                "Review": (
                    rate.review_threshold,
                    f"The account's SES {rate.label} rate reached {_percent(rate.review_threshold)}: "
                    "AWS reviews the account and may pause its sending, which stops every "
                    f"invitation. Act now: {RUNBOOK}.",
                ),
            }
            for level, (threshold, description) in levels.items():
                alarm_id = f"{rate.construct_id}{level}"
                alarm = cloudwatch.Alarm(
                    self,
                    alarm_id,
                    alarm_description=description,
                    metric=metric,
                    threshold=threshold,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    # The rates are published periodically, and not at all without sends: an hour
                    # without a datapoint says nothing new, so the alarm keeps its state.
                    treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
                )
                if alarm_topic is not None:
                    alarm.add_alarm_action(cloudwatch_actions.SnsAction(alarm_topic))
                self.alarms[alarm_id] = alarm
