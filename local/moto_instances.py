"""The served moto forgets the model objects it no longer holds.

moto's ``BaseModel.__new__`` appends every instance it creates to a list on its class, kept until
a reset, for the ``/moto-api/data.json`` view (which nothing here reads). ``copy.deepcopy`` goes
through ``__new__`` too. So every SQS message ever sent, every version of a DynamoDB item moto
copied in an update, and, while moto backed up the whole table for each item of a transaction,
every item of the table 21 times per completion write, stayed in memory for good: about 10 MB per
email at 1,000 attendees, 8.6 GB for the run. Objects are now tracked only where moto needs them:
S3's reset closes the temporary files of the keys it tracked.
"""

from __future__ import annotations

from local.patching import once

_TRACKED_SERVICES = ("moto.s3.",)  # whose reset relies on the list


@once
def install() -> None:
    """Stop moto tracking instances of the other services' models."""
    from moto.core.common_models import BaseModel

    tracked = BaseModel.__new__

    def __new__(cls, *args, **kwargs):
        if cls.__module__.startswith(_TRACKED_SERVICES):
            return tracked(cls, *args, **kwargs)
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = __new__
