"""Follow Organizer: events run from the organizer's own calendar (docs/organizer.md)."""
