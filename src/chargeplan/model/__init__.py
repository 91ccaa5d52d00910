"""The optimisation model: the instance as arrays, its formulation, sizing rules and size limits.

Knows no scenario and no file (``.ci/run`` checks it with import-linter)."""
