"""S3: the raw emails SES receiving stored, read as a bounded stream (never whole into memory)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

# SES receiving accepts messages up to 40 MB and adds its own headers on top; anything larger in
# the bucket was not put there by SES.
MAX_EMAIL_BYTES = 41 * 1024 * 1024
MISSING = frozenset({"NoSuchKey", "NoSuchBucket", "404"})


class MailMissing(LookupError):
    """The stored email is gone (expired or deleted): no redelivery can bring it back."""


class MailTooLarge(ValueError):
    """Larger than anything SES receiving stores."""


class Mailbox:
    def __init__(self, s3_client):
        # Lazy in the functions (clients.lazy): only the functions that read mail make an S3 client.
        self._s3 = s3_client

    @contextmanager
    def open(self, bucket: str, key: str, limit: int = MAX_EMAIL_BYTES) -> Iterator[io.BufferedReader]:
        """The stored email as a binary stream; raises MailMissing or MailTooLarge."""
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code", "") in MISSING:
                raise MailMissing(f"s3://{bucket}/{key}: {error.response['Error']['Code']}") from error
            raise
        body = response["Body"]
        try:
            if int(response.get("ContentLength") or 0) > limit:
                raise MailTooLarge(f"s3://{bucket}/{key} is {response['ContentLength']} bytes, over {limit}")
            yield io.BufferedReader(BoundedStream(body, limit), buffer_size=64 * 1024)
        finally:
            body.close()


class BoundedStream(io.RawIOBase):
    """A read-only raw stream over a body that refuses to yield more than ``limit`` bytes."""

    def __init__(self, body, limit: int):
        self._body = body
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            if self._body.read(1):
                raise MailTooLarge("the stored email is larger than its announced bound")
            return 0
        chunk = self._body.read(min(len(buffer), self._left))
        size = len(chunk)
        buffer[:size] = chunk
        self._left -= size
        return size
