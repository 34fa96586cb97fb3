"""Thin adapters over the AWS services the functions use (DynamoDB, SES v2, SQS)."""
