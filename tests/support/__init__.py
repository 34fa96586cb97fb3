"""Shared test helpers: a mocked AWS account wired like the stack, and email parsing oracles."""
