"""The SES identity the functions send from: an email address, or a domain with Easy DKIM."""

from __future__ import annotations

from aws_cdk import aws_route53 as route53
from aws_cdk import aws_ses as ses
from constructs import Construct

# TTL SES itself uses for the Easy DKIM CNAME records it creates in a hosted zone.
DKIM_RECORD_TTL_SECONDS = "1800"


class SenderIdentity(Construct):
    """Creates the SES identity; for a domain with a hosted zone ID, also its DKIM records.

    An address identity is verified by the link SES mails to it. A domain identity is verified
    through its three Easy DKIM CNAME records: created here when `hosted_zone_id` is given,
    otherwise they must be added to the domain's DNS by hand (the SES console lists them).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        identity: str,
        hosted_zone_id: str | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.identity_name = identity
        if "@" in identity:
            self.email_identity = ses.EmailIdentity(self, "Identity", identity=ses.Identity.email(identity))
            return

        self.email_identity = ses.EmailIdentity(
            self,
            "Identity",
            identity=ses.Identity.domain(identity),
            dkim_identity=ses.DkimIdentity.easy_dkim(ses.EasyDkimSigningKeyLength.RSA_2048_BIT),
            dkim_signing=True,
        )
        if hosted_zone_id is not None:
            # The zone may be the identity's parent (identity mail.example.com in zone example.com),
            # so the records are written by zone ID with the full names SES hands back.
            for index, record in enumerate(self.email_identity.dkim_records, start=1):
                route53.CfnRecordSet(
                    self,
                    f"DkimRecord{index}",
                    hosted_zone_id=hosted_zone_id,
                    name=record.name,
                    type="CNAME",
                    resource_records=[record.value],
                    ttl=DKIM_RECORD_TTL_SECONDS,
                )
