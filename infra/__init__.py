"""AWS CDK app for the Calendar Invite Server (see docs/architecture.md)."""
