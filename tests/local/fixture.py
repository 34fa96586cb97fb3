"""A small hand-written cloud assembly in the shapes CDK synthesizes, for the loader's own tests.

Two stacks, like the real app: a stateful one (table, SES identity) that exports the table name,
and a stateless one (queues, queue policies, functions, event source mappings, roles, log groups)
that reads it back through ``Fn::ImportValue`` (invite function) and ``Fn::GetStackOutput``
(cancellation function). It exercises the intrinsics without needing a synthesis.
"""

from __future__ import annotations

import json
from pathlib import Path

from lambdas.runtime.config import PLACEHOLDER_SENDER

DATA = "FixtureData"
WORKERS = "FixtureWorkers"
SENDER = PLACEHOLDER_SENDER


LAMBDA_TRUST = {
    "Statement": [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ],
    "Version": "2012-10-17",
}
# The fixture's functions may call what the app's may (not scoped: the loader is tested here).
FUNCTION_ACCESS = {
    "Action": ["dynamodb:*", "ses:*", "sqs:*", "s3:GetObject"],
    "Effect": "Allow",
    "Resource": "*",
}


def _tls_only(action: str, resource) -> dict:
    """The statement CDK's enforceSSL adds: deny any request not made over TLS."""
    return {
        "Action": action,
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": resource,
    }


def _queue_pair(prefix: str, max_receive_count: int) -> dict:
    return {
        f"{prefix}DeadLetterQueue0A1B2C3D": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True},
        },
        f"{prefix}Queue1A2B3C4D": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 180,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [f"{prefix}DeadLetterQueue0A1B2C3D", "Arn"]},
                    "maxReceiveCount": max_receive_count,
                },
            },
        },
        f"{prefix}QueuePolicy2A2B3C4D": {
            "Type": "AWS::SQS::QueuePolicy",
            "Properties": {
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        _tls_only("sqs:*", {"Fn::GetAtt": [f"{prefix}Queue1A2B3C4D", "Arn"]}),
                    ],
                },
                "Queues": [{"Ref": f"{prefix}Queue1A2B3C4D"}],
            },
        },
        f"{prefix}Role3A2B3C4D": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": LAMBDA_TRUST},
        },
        f"{prefix}RoleDefaultPolicy3B2B3C4D": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [FUNCTION_ACCESS]},
                "PolicyName": f"{prefix}RoleDefaultPolicy3B2B3C4D",
                "Roles": [{"Ref": f"{prefix}Role3A2B3C4D"}],
            },
        },
        f"{prefix}LogGroup4A2B3C4D": {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 30}},
    }


def _function(prefix: str, handler: str, table: dict) -> dict:
    return {
        f"{prefix}Function5A2B3C4D": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {
                    "S3Bucket": {"Fn::Sub": "cdk-assets-${AWS::AccountId}-${AWS::Region}"},
                    "S3Key": "x.zip",
                },
                "Handler": handler,
                "Role": {"Fn::GetAtt": [f"{prefix}Role3A2B3C4D", "Arn"]},
                "Runtime": "python3.13",
                "Timeout": 30,
                "MemorySize": 256,
                "LoggingConfig": {"LogGroup": {"Ref": f"{prefix}LogGroup4A2B3C4D"}},
                "Environment": {
                    "Variables": {
                        "REGION": {"Ref": "AWS::Region"},
                        "DYNAMODB_TABLE": table,
                        "SENDER": {"Fn::Join": ["@", ["invites", "example.com"]]},
                        "RSVP_EMAIL": {"Fn::Sub": ["rsvp@${Domain}", {"Domain": "example.com"}]},
                        "SQS_URL": {"Ref": f"{prefix}Queue1A2B3C4D"},
                        "DLQ_URL": {"Fn::GetAtt": [f"{prefix}DeadLetterQueue0A1B2C3D", "QueueUrl"]},
                        "SUBJECT_PREFIX": "CalendarSnack",
                        "CLAIM_LEASE_SECONDS": "30",
                        "BATCH_MAX_WORKERS": "4",
                    }
                },
            },
            "DependsOn": [f"{prefix}RoleDefaultPolicy3B2B3C4D", f"{prefix}Role3A2B3C4D"],
        },
        f"{prefix}EventSource6A2B3C4D": {
            "Type": "AWS::Lambda::EventSourceMapping",
            "Properties": {
                "BatchSize": 10,
                "EventSourceArn": {"Fn::GetAtt": [f"{prefix}Queue1A2B3C4D", "Arn"]},
                "FunctionName": {"Ref": f"{prefix}Function5A2B3C4D"},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "MaximumBatchingWindowInSeconds": 1,
                "ScalingConfig": {"MaximumConcurrency": 2},
            },
        },
    }


PARAMETERS = {
    "BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/cdk-bootstrap/version"}
}


def data_template() -> dict:
    return {
        "Conditions": {
            "InUsEast1": {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]},
            "NotInUsEast1": {"Fn::Not": [{"Condition": "InUsEast1"}]},
        },
        "Parameters": PARAMETERS,
        "Resources": {
            "TableA1B2C3D4": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {"SSEEnabled": True},
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                },
                "DeletionPolicy": "Retain",
            },
            "IdentityB1C2D3E4": {"Type": "AWS::SES::EmailIdentity", "Properties": {"EmailIdentity": SENDER}},
            "OnlyOutsideUsEast1": {
                "Type": "AWS::SNS::Topic",
                "Condition": "NotInUsEast1",
            },
        },
        "Outputs": {
            "ExportsOutputRefTable": {
                "Value": {"Ref": "TableA1B2C3D4"},
                "Export": {"Name": {"Fn::Sub": "${AWS::StackName}:TableName"}},
            },
            "PublishOutputRefTable": {"Value": {"Ref": "TableA1B2C3D4"}},
            "Region": {"Value": {"Fn::If": ["InUsEast1", "east", "elsewhere"]}},
        },
    }


def workers_template() -> dict:
    resources = {
        **_queue_pair("Invite", 3),
        **_function(
            "Invite", "lambdas.send_invite.handler.lambda_handler", {"Fn::ImportValue": f"{DATA}:TableName"}
        ),
        **_queue_pair("Cancellation", 3),
        **_function(
            "Cancellation",
            "lambdas.send_cancellation.handler.lambda_handler",
            {"Fn::GetStackOutput": {"StackName": DATA, "OutputName": "PublishOutputRefTable"}},
        ),
    }
    return {
        "Resources": resources,
        "Conditions": {},
        "Outputs": {
            "InviteQueueUrl": {"Value": {"Ref": "InviteQueue1A2B3C4D"}},
            "InviteDlqUrl": {"Value": {"Ref": "InviteDeadLetterQueue0A1B2C3D"}},
            "CancellationQueueUrl": {"Value": {"Ref": "CancellationQueue1A2B3C4D"}},
            "CancellationDlqUrl": {"Value": {"Ref": "CancellationDeadLetterQueue0A1B2C3D"}},
            "TableName": {"Value": {"Fn::ImportValue": f"{DATA}:TableName"}},
        },
        "Parameters": PARAMETERS,
    }


def write(directory: Path) -> Path:
    """Write the assembly (manifest.json and two templates) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    data, workers = data_template(), workers_template()
    (directory / f"{DATA}.template.json").write_text(json.dumps(data))
    (directory / f"{WORKERS}.template.json").write_text(json.dumps(workers))
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            # Listed dependent-first on purpose: the loader must order the stacks itself.
            WORKERS: {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": f"{WORKERS}.template.json"},
                "dependencies": [DATA],
            },
            DATA: {
                "type": "aws:cloudformation:stack",
                "properties": {"templateFile": f"{DATA}.template.json", "stackName": DATA},
            },
            "Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}},
        },
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))
    return directory


# ------------------------------------------------------------------ the inbound (reply) fragment

RSVP = "rsvp@example.com"
INBOUND_PREFIX = "inbound/"


def _account_arn(service: str, resource: list) -> dict:
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                f":{service}:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":",
                *resource,
            ],
        ]
    }


def inbound_resources(handler: str) -> dict:
    """SES receiving for RSVP, in the shapes CDK synthesizes (docs: reply-infra-interface.md):
    bucket + policy, topic + policy, the reply queue (+ DLQ) subscribed to the topic, a receipt rule
    set whose rule stores to the bucket and notifies the topic, and a function fed by the queue."""
    bucket_arn = {"Fn::GetAtt": ["InboundBucketA1B2C3D4", "Arn"]}
    resources = {
        "InboundBucketA1B2C3D4": {
            "Type": "AWS::S3::Bucket",
            "Properties": {
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]
                },
                "PublicAccessBlockConfiguration": {
                    "BlockPublicAcls": True,
                    "BlockPublicPolicy": True,
                    "IgnorePublicAcls": True,
                    "RestrictPublicBuckets": True,
                },
                "LifecycleConfiguration": {"Rules": [{"ExpirationInDays": 30, "Status": "Enabled"}]},
            },
            "UpdateReplacePolicy": "Retain",
            "DeletionPolicy": "Retain",
        },
        "InboundBucketPolicyB1C2D3E4": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": {"Ref": "InboundBucketA1B2C3D4"},
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        _tls_only("s3:*", [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}]),
                        {
                            "Action": "s3:PutObject",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
                                "ArnLike": {
                                    "aws:SourceArn": _account_arn(
                                        "ses",
                                        ["receipt-rule-set/", {"Ref": "RuleSetC1D2E3F4"}, ":receipt-rule/*"],
                                    )
                                },
                            },
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Resource": {"Fn::Join": ["", [bucket_arn, f"/{INBOUND_PREFIX}*"]]},
                        },
                    ],
                },
            },
        },
        "InboundTopicD1E2F3A4": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"KmsMasterKeyId": _account_arn("kms", ["alias/aws/sns"])},
        },
        "InboundTopicPolicyE1F2A3B4": {
            "Type": "AWS::SNS::TopicPolicy",
            "Properties": {
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Action": "sns:Publish",
                            "Effect": "Allow",
                            "Principal": {"Service": "ses.amazonaws.com"},
                            "Resource": {"Ref": "InboundTopicD1E2F3A4"},
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ],
                },
                "Topics": [{"Ref": "InboundTopicD1E2F3A4"}],
            },
        },
        **_queue_pair("Reply", 3),
        "ReplySubscriptionF1A2B3C4": {
            "Type": "AWS::SNS::Subscription",
            "Properties": {
                "Protocol": "sqs",
                "TopicArn": {"Ref": "InboundTopicD1E2F3A4"},
                "Endpoint": {"Fn::GetAtt": ["ReplyQueue1A2B3C4D", "Arn"]},
            },
            "DependsOn": ["ReplyQueuePolicy2A2B3C4D"],
        },
        "RuleSetC1D2E3F4": {"Type": "AWS::SES::ReceiptRuleSet"},
        "RsvpRuleA2B3C4D5": {
            "Type": "AWS::SES::ReceiptRule",
            "Properties": {
                "Rule": {
                    "Enabled": True,
                    "Recipients": [RSVP],
                    "ScanEnabled": True,
                    "TlsPolicy": "Require",
                    "Actions": [
                        {
                            "S3Action": {
                                "BucketName": {"Ref": "InboundBucketA1B2C3D4"},
                                "ObjectKeyPrefix": INBOUND_PREFIX,
                                "TopicArn": {"Ref": "InboundTopicD1E2F3A4"},
                            }
                        }
                    ],
                },
                "RuleSetName": {"Ref": "RuleSetC1D2E3F4"},
            },
            "DependsOn": ["InboundBucketPolicyB1C2D3E4"],
        },
        **_function("Reply", handler, {"Fn::ImportValue": f"{DATA}:TableName"}),
    }
    # The topic may send to the reply queue (one policy per queue, as CDK merges it).
    resources["ReplyQueuePolicy2A2B3C4D"]["Properties"]["PolicyDocument"]["Statement"].append(
        {
            "Action": "sqs:SendMessage",
            "Condition": {"ArnEquals": {"aws:SourceArn": {"Ref": "InboundTopicD1E2F3A4"}}},
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Resource": {"Fn::GetAtt": ["ReplyQueue1A2B3C4D", "Arn"]},
        }
    )
    return resources


INBOUND_OUTPUTS = {
    "ReplyQueueUrl": {"Value": {"Ref": "ReplyQueue1A2B3C4D"}},
    "ReplyDlqUrl": {"Value": {"Ref": "ReplyDeadLetterQueue0A1B2C3D"}},
    "InboundBucketName": {"Value": {"Ref": "InboundBucketA1B2C3D4"}},
    "InboundTopicArn": {"Value": {"Ref": "InboundTopicD1E2F3A4"}},
    "ReceiptRuleSetName": {"Value": {"Ref": "RuleSetC1D2E3F4"}},
}


def add_inbound(assembly, handler: str):
    """An editable copy of the fixture assembly with the inbound fragment in its workers stack."""
    template = assembly.stack(WORKERS).template
    template["Resources"].update(inbound_resources(handler))
    template["Outputs"].update(INBOUND_OUTPUTS)
    return assembly
