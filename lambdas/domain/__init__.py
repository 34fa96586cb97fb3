"""Pure domain logic: no AWS calls, no environment variables, no I/O."""
