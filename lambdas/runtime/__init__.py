"""Per-container wiring shared by every function: configuration, logging, batch processing."""
