"""Event sources: how AWS delivers to a function, emulated (see local/sources/sqs.py)."""
