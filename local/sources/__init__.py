"""Event sources: how AWS delivers to a function, emulated. See local/sources/base.py.

Importing this package registers every event source mapping below.
"""

from local.sources import sqs  # noqa: F401 - registers the SQS event source mapping
from local.sources.base import EventSource, mapping_source

__all__ = ["EventSource", "mapping_source"]
