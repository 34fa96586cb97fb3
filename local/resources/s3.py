"""AWS::S3::Bucket (encryption, public access block, lifecycle rules) and AWS::S3::BucketPolicy.

The bucket's configuration is applied through the S3 API, so that reading it back answers as AWS
would (expiry over time is stored, not run). A bucket policy is kept on the ``Bucket`` of the
inventory, not put on moto's bucket: moto evaluates bucket policies on object requests without
the request's context, so the stack's TLS-only deny (``aws:SecureTransport: false``) would refuse
every local request, TLS or not, and its SES-only allow cannot be told apart from any other
caller. Server access logging (``LoggingConfiguration``) is accepted and not emulated: no access
log objects appear.
"""

from __future__ import annotations

from dataclasses import dataclass

from local.resources.base import Creation, creates
from local.template import Physical, TemplateError

# The lifecycle rule fields of CloudFormation the runtime translates to the S3 API's shape.
_RULE_FIELDS = {"Id", "Status", "Prefix", "ExpirationInDays"}


@dataclass
class Bucket:
    stack: str
    logical_id: str
    name: str
    arn: str
    policy: dict | None = None  # kept, not enforced (see above)


@creates("AWS::S3::Bucket", not_emulated=("NotificationConfiguration", "ReplicationConfiguration"))
def create_bucket(c: Creation) -> Physical:
    props = c.properties
    name = props.get("BucketName") or c.physical_name(63).lower()
    s3 = c.client("s3")
    if c.region == "us-east-1":
        s3.create_bucket(Bucket=name)
    else:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": c.region})
    if "BucketEncryption" in props:
        # CloudFormation's ServerSideEncryptionByDefault is the API's ApplyServerSideEncryptionByDefault.
        rules = [
            {
                ("ApplyServerSideEncryptionByDefault" if k == "ServerSideEncryptionByDefault" else k): v
                for k, v in r.items()
            }
            for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        ]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "PublicAccessBlockConfiguration" in props:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
        )
    if "LifecycleConfiguration" in props:
        rules = [_lifecycle_rule(rule) for rule in props["LifecycleConfiguration"]["Rules"]]
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    arn = f"arn:aws:s3:::{name}"
    c.inventory.buckets[name] = Bucket(stack=c.stack, logical_id=c.logical_id, name=name, arn=arn)
    return Physical(
        ref=name,
        attributes={
            "Arn": arn,
            "DomainName": f"{name}.s3.amazonaws.com",
            "RegionalDomainName": f"{name}.s3.{c.region}.amazonaws.com",
        },
    )


def _lifecycle_rule(rule: dict) -> dict:
    unknown = set(rule) - _RULE_FIELDS
    if unknown:
        raise TemplateError(f"lifecycle rule fields {sorted(unknown)} are not emulated")
    translated = {"Status": rule.get("Status", "Enabled"), "Filter": {"Prefix": rule.get("Prefix", "")}}
    if "Id" in rule:
        translated["ID"] = rule["Id"]
    if "ExpirationInDays" in rule:
        translated["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    return translated


@creates("AWS::S3::BucketPolicy")
def keep_bucket_policy(c: Creation) -> Physical:
    name = c.properties["Bucket"]
    bucket = c.inventory.buckets.get(name)
    if bucket is None:
        raise TemplateError(f"bucket {name!r} is not a bucket of this assembly")
    bucket.policy = c.properties["PolicyDocument"]
    return Physical(ref=c.physical_name(64))
