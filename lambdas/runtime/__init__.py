"""Per-container wiring shared by the four functions: configuration, logging, batch processing."""
