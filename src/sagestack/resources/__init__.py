"""The domain: resource identities (ARNs), records, events and lifecycles.

May import: the standard library only. Knows nothing about HTTP, botocore or the store's engine.
"""
