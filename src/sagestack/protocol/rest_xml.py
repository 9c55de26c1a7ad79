"""rest-xml, as S3 speaks it (path-style): operations by method, URI and literal query keys;
members bound to the URI, query string and headers; the rest in an XML document (timestamps
ISO 8601, blobs base64) or a raw payload.

Errors are S3's `<Error><Code/><Message/>...<RequestId/></Error>`; HEAD responses carry no body.
`parse` reads `request.body` as given, so a caller that decodes a body first (aws-chunked, say)
passes a request rebuilt with the decoded bytes.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any
from xml.etree.ElementTree import ParseError, XMLParser

from botocore.model import OperationModel, ServiceModel, Shape, StructureShape

from sagestack.protocol.messages import HttpRequest, HttpResponse
from sagestack.protocol.rest import RestProtocol
from sagestack.protocol.wire_types import encode_blob
from sagestack.protocol.xml_codec import (
    XmlCodec,
    XmlValueError,
    element_name,
    namespace_attribute,
    text_element,
)
from sagestack.spec.errors import ServiceError

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
MALFORMED_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema"
)


def malformed_xml() -> ServiceError:
    return ServiceError(MALFORMED_XML, code="MalformedXML", status=400)


#: The root elements S3 gives its response documents, by output shape (the model leaves them
#: unnamed). GetBucketLocation's document is the constraint itself: `<LocationConstraint>` text.
S3_RESULT_ROOTS = {
    "ListBucketsOutput": "ListAllMyBucketsResult",
    "ListObjectsOutput": "ListBucketResult",
    "ListObjectsV2Output": "ListBucketResult",
    "CreateMultipartUploadOutput": "InitiateMultipartUploadResult",
    "CompleteMultipartUploadOutput": "CompleteMultipartUploadResult",
    "ListPartsOutput": "ListPartsResult",
    "ListMultipartUploadsOutput": "ListMultipartUploadsResult",
    "DeleteObjectsOutput": "DeleteResult",
    "GetObjectTaggingOutput": "Tagging",
    "GetBucketTaggingOutput": "Tagging",
    "GetBucketVersioningOutput": "VersioningConfiguration",
    "GetObjectAttributesOutput": "GetObjectAttributesResponse",
}
#: Output shapes whose whole document is one member's text under an element of its name.
S3_TEXT_ROOTS = {"GetBucketLocationOutput": "LocationConstraint"}


class RestXmlProtocol(RestProtocol):
    content_type = "application/xml"

    def __init__(
        self,
        service_model: ServiceModel,
        result_roots: Mapping[str, str] | None = None,
        text_roots: Mapping[str, str] | None = None,
    ) -> None:
        """`result_roots` names the root element of an output shape's body by shape name
        (the model leaves these unnamed; clients that check them want the service's own);
        `text_roots` maps a shape to the member whose text is the whole document. S3's own
        are the defaults for the s3 model."""
        super().__init__(service_model)
        is_s3 = self._is_s3 = service_model.service_name == "s3"
        self._codec = XmlCodec()
        self._result_roots = dict(result_roots or (S3_RESULT_ROOTS if is_s3 else {}))
        self._text_roots = dict(text_roots or (S3_TEXT_ROOTS if is_s3 else {}))
        self._namespace = _service_namespace(service_model)

    def _no_operation(self, request: HttpRequest) -> ServiceError:
        return ServiceError(
            "The specified method is not allowed against this resource.",
            code="MethodNotAllowed",
            status=405,
        )

    def _read_body(self, body: bytes, shape: StructureShape, *, payload: bool) -> Any:
        try:
            parser = XMLParser()
            parser.feed(body)
            root = parser.close()
            return self._codec.reader(shape)([root])
        except (ParseError, XmlValueError):
            raise malformed_xml() from None

    def _write_body(self, value: Any, shape: Shape, root: str) -> bytes:
        text_member = self._text_roots.get(shape.name)
        if text_member is not None:
            text = value.get(text_member) or ""
            element = text_element(text_member, str(text))
            opening = len(text_member) + 1
            element = element[:opening] + self._namespace + element[opening:]
            return (XML_DECLARATION + element).encode()
        root = root or self._result_roots.get(shape.name) or shape.serialization.get("name")
        root = root or shape.name
        pieces = [XML_DECLARATION]
        self._codec.writer(shape)(value, root, pieces)
        if self._namespace and not namespace_attribute(shape):
            opening = len(root) + 1
            pieces[1] = pieces[1][:opening] + self._namespace + pieces[1][opening:]
        return "".join(pieces).encode()

    def _request_id_headers(self, request_id: str) -> list[tuple[str, str]]:
        return [("x-amz-request-id", request_id), ("x-amz-id-2", encode_blob(request_id))]

    def serialize_error(
        self,
        error: ServiceError,
        operation: OperationModel | None,
        request_id: str,
        *,
        method: str = "POST",
    ) -> HttpResponse:
        model, bound, fields = self._error_parts(error)
        headers = self._request_id_headers(request_id)
        headers.extend(bound)
        if method == "HEAD" or model.status == 304:  # neither may carry a body
            return HttpResponse(model.status, headers, b"")
        headers.append(("Content-Type", self.content_type))
        code = error.code
        if code == "ValidationException" and self._is_s3:
            code = "InvalidArgument"  # S3's spelling of a request its model rejects
        pieces = [
            XML_DECLARATION,
            "<Error>",
            text_element("Code", code),
            text_element("Message", error.message),
        ]
        members = model.shape.members if model.shape is not None else {}
        for name, value in fields.items():
            if value is None:
                continue
            member = members.get(name)
            if member is None:
                pieces.append(text_element(name, str(value)))
            else:
                self._codec.writer(member)(value, element_name(member, name), pieces)
        pieces.append(text_element("RequestId", request_id))
        pieces.append("</Error>")
        return HttpResponse(model.status, headers, "".join(pieces).encode())


def _service_namespace(service_model: ServiceModel) -> str:
    """` xmlns="..."` for response documents: the model's `xmlNamespace`, else the namespace
    its operations' input payloads declare most often, else none."""
    declared = service_model.metadata.get("xmlNamespace")
    if isinstance(declared, str):
        return f' xmlns="{declared}"'
    seen: Counter[str] = Counter()
    for name in service_model.operation_names:
        shape = service_model.operation_model(name).input_shape
        payload = shape.serialization.get("payload") if shape is not None else None
        if payload:
            attribute = namespace_attribute(shape.members[payload])
            if attribute.startswith(" xmlns="):
                seen[attribute] += 1
    return seen.most_common(1)[0][0] if seen else ""
