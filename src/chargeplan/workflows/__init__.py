"""Workflows: a scenario planned end to end, batches of scenarios, target and budget curves."""
