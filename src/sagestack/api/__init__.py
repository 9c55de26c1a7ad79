"""From a parsed request to a handler and back: the request context, the operation registry and
the pipeline (resolve → parse → validate → call → shape → serialize).

May import: `sagestack.protocol`, `sagestack.spec`. Knows no service's semantics.
"""
