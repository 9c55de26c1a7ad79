"""CreateProcessingJob's cross-field rules, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from sagestack.services.sagemaker.processing_job_rules import check_create
from sagestack.spec.errors import ValidationException


def request(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ProcessingJobName": "job",
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 5,
            }
        },
        "AppSpecification": {"ImageUri": "img", "ContainerEntrypoint": ["python3", "x.py"]},
        "RoleArn": "arn:aws:iam::000000000000:role/R",
        "ProcessingInputs": [
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": "s3://bkt/data/",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "out",
                    "S3Output": {
                        "S3Uri": "s3://bkt/out",
                        "LocalPath": "/opt/ml/processing/out",
                        "S3UploadMode": "Continuous",
                    },
                }
            ]
        },
    }
    base.update(overrides)
    return base


def refused(**overrides: Any) -> str:
    with pytest.raises(ValidationException) as error:
        check_create(request(**overrides))
    return str(error.value.message)


def test_a_plain_request_passes() -> None:
    check_create(request())
    check_create(request(ProcessingInputs=[], ProcessingOutputConfig={"Outputs": []}))


@pytest.mark.parametrize(
    ("local_path", "accepted"),
    [
        ("/opt/ml/processing/input/data", True),
        ("/opt/ml/processing/input/code/", True),
        ("/opt/ml/processing/", False),
        ("/opt/ml/processing/../../etc", False),
        ("/opt/ml/input/data", False),
        ("", False),
    ],
)
def test_local_paths_must_lie_under_opt_ml_processing(local_path: str, accepted: bool) -> None:
    item = request()["ProcessingInputs"][0]
    item["S3Input"]["LocalPath"] = local_path
    if accepted:
        check_create(request(ProcessingInputs=[item]))
    else:
        assert "LocalPath" in refused(ProcessingInputs=[item])


def test_inputs_sagestack_cannot_run_are_refused_plainly() -> None:
    item = request()["ProcessingInputs"][0]
    pipe = {**item, "S3Input": {**item["S3Input"], "S3InputMode": "Pipe"}}
    assert "Pipe input mode" in refused(ProcessingInputs=[pipe])
    gzip = {**item, "S3Input": {**item["S3Input"], "S3CompressionType": "Gzip"}}
    assert "Gzip can only be used when Pipe mode" in refused(ProcessingInputs=[gzip])
    redshift = {"InputName": "r", "DatasetDefinition": {"RedshiftDatasetDefinition": {}}}
    assert "RedshiftDatasetDefinition" in refused(ProcessingInputs=[redshift])
    assert "exactly one of S3Input" in refused(ProcessingInputs=[{"InputName": "none"}])


def test_names_and_paths_must_be_unique() -> None:
    item = request()["ProcessingInputs"][0]
    other = {**item, "S3Input": {**item["S3Input"], "LocalPath": "/opt/ml/processing/other"}}
    assert "InputName must be unique" in refused(ProcessingInputs=[item, other])
    same_path = {**item, "InputName": "again"}
    assert "LocalPath must be unique" in refused(ProcessingInputs=[item, same_path])


def test_outputs_and_cluster() -> None:
    store = {"OutputName": "fs", "FeatureStoreOutput": {"FeatureGroupName": "g"}}
    assert "FeatureStoreOutput" in refused(ProcessingOutputConfig={"Outputs": [store]})
    cluster = {"ClusterConfig": {"VolumeSizeInGB": 5}}
    assert "InstanceType and InstanceCount" in refused(ProcessingResources=cluster)
    assert "ImageUri" in refused(AppSpecification={"ImageUri": ""})
