"""HTTP only: the ASGI app, which service a request is for, and the caller's identity.

May import: `sagestack.api`, `sagestack.protocol.messages`. No AWS service semantics here.
"""
