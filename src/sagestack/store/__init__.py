"""Durable state behind the `ResourceStore` protocol: SQLite (embedded default) and in-memory.

May import: `sagestack.resources` and the standard library. Raises its own small exceptions;
only `services` translates them into AWS errors.
"""
