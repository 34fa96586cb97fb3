"""Per-container wiring shared by both functions: configuration, logging, batch processing."""
