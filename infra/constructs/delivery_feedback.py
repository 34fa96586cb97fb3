"""The SES configuration set every send uses, and its delivery events published on an encrypted topic.

What reads the events is not this construct's business: the stack subscribes the feedback worker's
queue to `topic`, hands the send functions `configuration_set_name` and grants them
`configuration_set_arn` (SES authorises a send through a configuration set on that resource too).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_ses as ses
from constructs import Construct

from infra.constructs.encrypted_topic import allow_service_to_publish, encrypted_topic, only_for_source

SES_PRINCIPAL = "ses.amazonaws.com"

# What feedback records, as CloudFormation spells the event types (the SES v2 API calls them BOUNCE,
# COMPLAINT, DELIVERY, REJECT, DELIVERY_DELAY, RENDERING_FAILURE; the events' own `eventType` says
# Bounce, Complaint, ...). SEND is left out (every accepted send would be an event, and the send
# function already records it); OPEN and CLICK need tracking we do not put in invitations;
# SUBSCRIPTION is for list mail.
FEEDBACK_EVENT_TYPES = (
    "bounce",
    "complaint",
    "delivery",
    "reject",
    "deliveryDelay",
    "renderingFailure",
)


class DeliveryFeedback(Construct):
    """Configuration set (reputation metrics, sending on, account suppression list for bounces and
    complaints), encrypted topic, and the event destination that publishes `event_types` to it.

    Only SES, acting for this account and this configuration set, may publish on the topic and use
    its key. SES checks that it can publish when the event destination is created, so the
    destination waits for the topic policy.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        configuration_set_name: str,
        event_destination_name: str,
        event_types: Sequence[str] = FEEDBACK_EVENT_TYPES,
    ) -> None:
        super().__init__(scope, construct_id)
        self.configuration_set = ses.ConfigurationSet(
            self,
            "ConfigurationSet",
            configuration_set_name=configuration_set_name,
            # Per-configuration-set bounce and complaint rates, beside the account-wide ones.
            reputation_metrics=True,
            sending_enabled=True,
            # SES does not deliver to an address on the account's suppression list (a hard bounce
            # or a complaint from any send of this account), whatever the account-level setting
            # says; it reports a bounce of subtype OnAccountSuppressionList instead.
            suppression_reasons=ses.SuppressionReasons.BOUNCES_AND_COMPLAINTS,
        )
        # A Ref, not the name given: whatever is told the name or granted the ARN is created after
        # the configuration set, so no send can name one that does not exist yet.
        self.configuration_set_name = self.configuration_set.configuration_set_name
        self.configuration_set_arn = Stack.of(self).format_arn(
            service="ses",
            resource="configuration-set",
            resource_name=self.configuration_set_name,
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )
        # The confused-deputy guard SES documents for an SNS event destination.
        only_this_configuration_set = only_for_source(self, self.configuration_set_arn)

        self.key, self.topic = encrypted_topic(
            self,
            display_name="Calendar Invite Server delivery feedback",
            key_description="Encrypts the SES delivery events of the invitation configuration set",
        )
        allow_service_to_publish(
            self.key,
            self.topic,
            service=SES_PRINCIPAL,
            sid="AllowSesConfigurationSet",
            topic_conditions=only_this_configuration_set,
            key_conditions=only_this_configuration_set,
        )

        self.event_destination = ses.CfnConfigurationSetEventDestination(
            self,
            "EventDestination",
            configuration_set_name=self.configuration_set_name,
            event_destination=ses.CfnConfigurationSetEventDestination.EventDestinationProperty(
                name=event_destination_name,
                enabled=True,
                matching_event_types=list(event_types),
                sns_destination=ses.CfnConfigurationSetEventDestination.SnsDestinationProperty(
                    topic_arn=self.topic.topic_arn
                ),
            ),
        )
        self.event_destination.node.add_dependency(self.topic.node.find_child("Policy"))
