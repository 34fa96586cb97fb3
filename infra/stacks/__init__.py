"""The two stacks: stateful (table, SES identity) and stateless (queues, functions, alarms)."""
