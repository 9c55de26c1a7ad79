"""The streaming bodies a handler may take (`@operation(..., streams_body=True)`) and return.

They are the protocol layer's own types, offered here so services depend on `api` alone.
"""

from __future__ import annotations

from sagestack.protocol.messages import BodyStream, ClientDisconnected, StreamingPayload

__all__ = ["BodyStream", "ClientDisconnected", "StreamingPayload"]
