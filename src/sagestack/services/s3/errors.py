"""S3's errors, with the codes, statuses, messages and extra fields S3 itself sends."""

from __future__ import annotations

from typing import Any

from sagestack.spec.errors import ServiceError


def s3_error(code: str, status: int, message: str, **fields: Any) -> ServiceError:
    return ServiceError(message, code=code, status=status, fields=fields)


def no_such_bucket(bucket: str) -> ServiceError:
    return s3_error("NoSuchBucket", 404, "The specified bucket does not exist", BucketName=bucket)


def no_such_key(key: str) -> ServiceError:
    return s3_error("NoSuchKey", 404, "The specified key does not exist.", Key=key)


def no_such_upload(upload_id: str) -> ServiceError:
    return s3_error(
        "NoSuchUpload",
        404,
        "The specified upload does not exist. The upload ID may be invalid, or the upload may "
        "have been aborted or completed.",
        UploadId=upload_id,
    )


def invalid_argument(message: str, name: str, value: str) -> ServiceError:
    return s3_error("InvalidArgument", 400, message, ArgumentName=name, ArgumentValue=value)


def invalid_request(message: str) -> ServiceError:
    return s3_error("InvalidRequest", 400, message)


def bad_digest(algorithm: str) -> ServiceError:
    if algorithm == "MD5":
        return s3_error(
            "BadDigest", 400, "The Content-MD5 you specified did not match what we received."
        )
    return s3_error(
        "BadDigest", 400, f"The {algorithm} you specified did not match the calculated checksum."
    )


def precondition_failed(condition: str) -> ServiceError:
    return s3_error(
        "PreconditionFailed",
        412,
        "At least one of the pre-conditions you specified did not hold",
        Condition=condition,
    )


def not_modified() -> ServiceError:
    return s3_error("NotModified", 304, "Not Modified")


def invalid_range(requested: str, size: int) -> ServiceError:
    return s3_error(
        "InvalidRange",
        416,
        "The requested range is not satisfiable",
        RangeRequested=requested,
        ActualObjectSize=size,
    )


def invalid_tag(message: str) -> ServiceError:
    return s3_error("InvalidTag", 400, message)
