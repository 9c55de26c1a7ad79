"""One port, many services: target prefix, then SigV4 scope, then path and request form."""

from __future__ import annotations

import pytest

from sagestack.app import service_endpoints
from sagestack.http.identity import credential_scope
from sagestack.http.service_routing import ServiceRouter
from sagestack.protocol.messages import HttpRequest

ROUTER = ServiceRouter(service_endpoints())


def auth(service: str, region: str = "eu-west-1") -> dict[str, str]:
    return {
        "authorization": f"AWS4-HMAC-SHA256 Credential=AKID/20261123/{region}/{service}/"
        "aws4_request, SignedHeaders=host, Signature=abc"
    }


@pytest.mark.parametrize(
    ("request_", "service"),
    [
        (HttpRequest("POST", "/", headers={"x-amz-target": "SageMaker.ListModels"}), "sagemaker"),
        (HttpRequest("POST", "/", headers={"x-amz-target": "Logs_20140328.X"}), "logs"),
        (
            HttpRequest("POST", "/endpoints/e/invocations", headers=auth("sagemaker")),
            "sagemaker-runtime",
        ),
        (HttpRequest("POST", "/", headers=auth("sts")), "sts"),
        (HttpRequest("GET", "/bucket/key", headers=auth("s3")), "s3"),
        (
            HttpRequest(
                "GET",
                "/bucket/key",
                query=(("X-Amz-Credential", "AKID/20261123/us-east-1/s3/aws4_request"),),
            ),
            "s3",
        ),
        (
            HttpRequest(
                "POST",
                "/",
                headers={"content-type": "application/x-www-form-urlencoded"},
                body=b"Action=GetCallerIdentity&Version=2011-06-15",
            ),
            "sts",
        ),
        (HttpRequest("GET", "/"), "s3"),
    ],
)
def test_route(request_: HttpRequest, service: str) -> None:
    endpoint = ROUTER.route(request_, credential_scope(request_))
    assert endpoint is not None
    assert endpoint.name == service


def test_unknown_target_prefix_routes_nowhere() -> None:
    request = HttpRequest("POST", "/", headers={"x-amz-target": "DynamoDB_20120810.GetItem"})
    assert ROUTER.route(request, None) is None


def test_credential_scope_reads_region_and_key() -> None:
    scope = credential_scope(HttpRequest("POST", "/", headers=auth("sagemaker", "ap-south-1")))
    assert scope is not None
    assert (scope.access_key_id, scope.region, scope.service) == ("AKID", "ap-south-1", "sagemaker")
    assert credential_scope(HttpRequest("POST", "/", headers={"authorization": "Bearer x"})) is None
