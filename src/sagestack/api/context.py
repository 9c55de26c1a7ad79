"""Who is calling and where (Caller); what a handler knows of its request (RequestContext)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """The identity a request carries: its access key, and the account and region it acts in."""

    access_key_id: str
    account: str
    region: str


@dataclass(frozen=True, slots=True)
class RequestContext:
    request_id: str
    service: str
    operation: str
    account: str
    region: str
    access_key_id: str
    #: Wall-clock time the request arrived, epoch seconds: one "now" per request.
    now: float
