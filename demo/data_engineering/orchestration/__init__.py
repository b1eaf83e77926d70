"""Dagster definitions of the e-commerce analytics pipeline (the code location's module)."""
