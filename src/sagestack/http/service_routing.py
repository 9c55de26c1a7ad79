"""Which AWS service a request is for, on a port that serves them all.

In order (what real clients send, measured): the `X-Amz-Target` prefix (`SageMaker.`,
`Logs_20140328.`, ...); else the SigV4 credential-scope service (`sts`, `s3`, `iam`; `sagemaker`
without a target is the runtime, REST); else the path (`/endpoints/...` is the runtime) and the
form of the request (`Action=` is a query-protocol service); else S3, whose unsigned and
presigned requests carry nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import parse_qsl

from sagestack.api.pipeline import ServiceEndpoint
from sagestack.http.identity import CredentialScope
from sagestack.protocol.messages import HttpRequest


class ServiceRouter:
    def __init__(self, endpoints: Iterable[ServiceEndpoint]) -> None:
        self.endpoints = {endpoint.name: endpoint for endpoint in endpoints}
        self._by_target: dict[str, ServiceEndpoint] = {}
        self._by_scope: dict[str, ServiceEndpoint] = {}
        self._by_query_version: dict[str, ServiceEndpoint] = {}
        for endpoint in self.endpoints.values():
            metadata = endpoint.model.metadata
            prefix = metadata.get("targetPrefix")
            if prefix:
                self._by_target[prefix] = endpoint
                continue
            signing = metadata.get("signingName") or metadata["endpointPrefix"]
            self._by_scope.setdefault(signing, endpoint)
            if metadata["protocol"] == "query":
                self._by_query_version[metadata["apiVersion"]] = endpoint

    def route(self, request: HttpRequest, scope: CredentialScope | None) -> ServiceEndpoint | None:
        """The service for `request`, or None when it names a target no served service has."""
        target = request.headers.get("x-amz-target")
        if target is not None:
            return self._by_target.get(target.split(".", 1)[0])
        if scope is not None and scope.service in self._by_scope:
            return self._by_scope[scope.service]
        if request.path.startswith("/endpoints/"):
            return self.endpoints.get("sagemaker-runtime")
        query_endpoint = self._query_protocol_endpoint(request)
        if query_endpoint is not None:
            return query_endpoint
        return self.endpoints.get("s3")

    def _query_protocol_endpoint(self, request: HttpRequest) -> ServiceEndpoint | None:
        params = dict(request.query)
        if request.method == "POST" and request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            params.update(parse_qsl(request.body.decode("utf-8", "replace")))
        if "Action" not in params:
            return None
        return self._by_query_version.get(params.get("Version", ""))


#: Host suffixes under which `<bucket>.<suffix>` is a virtual-hosted-style S3 request.
VIRTUAL_HOST_SUFFIXES = (".s3.localhost", ".localhost")


def path_style(request: HttpRequest) -> HttpRequest:
    """A virtual-hosted-style S3 request (`bucket.localhost:6161/key`) as its path-style
    equivalent (`/bucket/key`); any other request unchanged."""
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    for suffix in VIRTUAL_HOST_SUFFIXES:
        if host.endswith(suffix) and len(host) > len(suffix):
            bucket = host[: -len(suffix)]
            return replace(request, path=f"/{bucket}{request.path}")
    return request
