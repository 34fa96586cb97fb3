"""Placeholder: replaced by the real handler in the next commit."""


def lambda_handler(event, context):
    return {"batchItemFailures": []}
