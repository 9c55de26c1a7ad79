"""Algorithm resources through boto3: CreateAlgorithm's contract enforced on CreateTrainingJob,
jobs that really train with the algorithm's image, and validation profiles that really run
(training and transform jobs) for algorithms and model packages."""

from __future__ import annotations

import copy
import time
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import error_of
from tests.api.test_training_algorithms import XGBOOST, channel, csv_rows
from tests.api.test_training_runs import ROLE

ACCOUNT_PREFIX = "arn:aws:sagemaker:us-east-1:000000000000"
RMSE = r".*\[[0-9]+\].*#011validation-rmse:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?).*"


def integer(name: str, low: str, high: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Type": "Integer",
        "Range": {"IntegerParameterRangeSpecification": {"MinValue": low, "MaxValue": high}},
        "IsTunable": True,
        **extra,
    }


TRAINING_SPEC: dict[str, Any] = {
    "TrainingImage": XGBOOST,
    "SupportedHyperParameters": [
        integer("num_round", "1", "200", IsRequired=True),
        integer("max_depth", "1", "10", DefaultValue="3"),
        {
            "Name": "eta",
            "Type": "Continuous",
            "Range": {"ContinuousParameterRangeSpecification": {"MinValue": "0", "MaxValue": "1"}},
            "DefaultValue": "0.3",
        },
        {
            "Name": "objective",
            "Type": "Categorical",
            "Range": {
                "CategoricalParameterRangeSpecification": {
                    "Values": ["reg:squarederror", "binary:logistic"]
                }
            },
            "DefaultValue": "reg:squarederror",
        },
    ],
    "SupportedTrainingInstanceTypes": ["ml.m5.large", "ml.m5.xlarge"],
    "SupportsDistributedTraining": False,
    "MetricDefinitions": [{"Name": "validation:rmse", "Regex": RMSE}],
    "TrainingChannels": [
        {
            "Name": "train",
            "IsRequired": True,
            "SupportedContentTypes": ["text/csv"],
            "SupportedCompressionTypes": ["None"],
            "SupportedInputModes": ["File"],
        },
        {
            "Name": "validation",
            "SupportedContentTypes": ["text/csv"],
            "SupportedInputModes": ["File"],
        },
    ],
    "SupportedTuningJobObjectiveMetrics": [{"Type": "Minimize", "MetricName": "validation:rmse"}],
}
INFERENCE_SPEC = {
    "Containers": [{"Image": XGBOOST}],
    "SupportedTransformInstanceTypes": ["ml.m5.large"],
    "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}


@pytest.fixture
def data(s3: Any) -> Any:
    rng = np.random.default_rng(7)
    features = rng.uniform(size=(300, 3))
    labels = 4 * features[:, 0] - 2 * features[:, 1] + features[:, 2]
    s3.put_object(Bucket="bkt", Key="alg/train/t.csv", Body=csv_rows(features[:250], labels[:250]))
    s3.put_object(
        Bucket="bkt", Key="alg/validation/v.csv", Body=csv_rows(features[250:], labels[250:])
    )
    s3.put_object(
        Bucket="bkt",
        Key="alg/batch/rows.csv",
        Body="\n".join(",".join(str(v) for v in row) for row in features[:5]).encode(),
    )
    return s3


def training_request(name: str, algorithm: str, **overrides: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"AlgorithmName": algorithm, "TrainingInputMode": "File"},
        "RoleArn": ROLE,
        "HyperParameters": {"num_round": "30"},
        "InputDataConfig": [
            channel("train", "s3://bkt/alg/train/", "text/csv"),
            channel("validation", "s3://bkt/alg/validation/", "text/csv"),
        ],
        "OutputDataConfig": {"S3OutputPath": "s3://bkt/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def wait_for(describe: Any, key: str, ended: tuple[str, ...], **kwargs: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        found: dict[str, Any] = describe(**kwargs)
        if found[key] in ended:
            return found
        assert time.monotonic() < deadline, f"still {found[key]}"
        time.sleep(0.1)


def message_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException", message
    return message


def test_create_describe_list_delete(sagemaker: Any) -> None:
    arn = sagemaker.create_algorithm(
        AlgorithmName="Xgb-Reg",
        AlgorithmDescription="xgboost regression",
        TrainingSpecification=TRAINING_SPEC,
        InferenceSpecification=INFERENCE_SPEC,
        Tags=[{"Key": "k", "Value": "v"}],
    )["AlgorithmArn"]
    assert arn == f"{ACCOUNT_PREFIX}:algorithm/xgb-reg"
    described = sagemaker.describe_algorithm(AlgorithmName=arn)
    assert described["AlgorithmStatus"] == "Completed"
    assert described["AlgorithmStatusDetails"] == {
        "ValidationStatuses": [],
        "ImageScanStatuses": [],
    }
    assert described["TrainingSpecification"] == TRAINING_SPEC
    assert described["InferenceSpecification"] == INFERENCE_SPEC
    assert described["CertifyForMarketplace"] is False
    listed = sagemaker.list_algorithms(NameContains="xgb")["AlgorithmSummaryList"]
    assert [(a["AlgorithmName"], a["AlgorithmStatus"]) for a in listed] == [
        ("Xgb-Reg", "Completed")
    ]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]
    sagemaker.delete_algorithm(AlgorithmName="Xgb-Reg")
    assert 'Could not find algorithm "' in message_of(
        sagemaker.describe_algorithm, AlgorithmName="Xgb-Reg"
    )


def test_malformed_training_specifications_are_refused(sagemaker: Any) -> None:
    def refused(change: Any) -> str:
        spec = copy.deepcopy(TRAINING_SPEC)
        change(spec)
        return message_of(
            sagemaker.create_algorithm, AlgorithmName="bad", TrainingSpecification=spec
        )

    assert "Range must be IntegerParameterRangeSpecification" in refused(
        lambda s: s["SupportedHyperParameters"][2].update(Type="Integer")
    )
    assert "Invalid value: 50 Supported range" in refused(
        lambda s: s["SupportedHyperParameters"][1].update(DefaultValue="50")
    )
    assert "not in MetricDefinitions" in refused(
        lambda s: s["SupportedTuningJobObjectiveMetrics"][0].update(MetricName="auc")
    )
    assert "must be unique" in refused(lambda s: s["TrainingChannels"][1].update(Name="train"))
    assert sagemaker.list_algorithms()["AlgorithmSummaryList"] == []


def test_training_jobs_are_checked_against_the_algorithm(sagemaker: Any) -> None:
    sagemaker.create_algorithm(AlgorithmName="xgb", TrainingSpecification=TRAINING_SPEC)
    extra = channel("test", "s3://bkt/alg/train/", "text/csv")
    cases = [
        (
            {"InputDataConfig": [channel("train", "s3://bkt/a/", "text/csv"), extra]},
            "Unknown input channel: test is not supported by: xgb",
        ),
        (
            {"InputDataConfig": [channel("validation", "s3://bkt/a/", "text/csv")]},
            "Required input channel: train Was not provided.",
        ),
        (
            {"InputDataConfig": [channel("train", "s3://bkt/a/", "application/json")]},
            "Invalid content type: application/json",
        ),
        ({"HyperParameters": {"num_round": "500"}}, "Invalid value: 500 Supported range"),
        ({"HyperParameters": {"num_round": "ten"}}, "must be an integer"),
        (
            {"HyperParameters": {"num_round": "3", "objective": "multi:softmax"}},
            "Invalid value: multi:softmax Supported range",
        ),
        ({"HyperParameters": {"num_round": "3", "gamma": "1"}}, "gamma is not supported by xgb"),
        ({"HyperParameters": {"eta": "0.1"}}, "Required hyperparameter: num_round is not set"),
        (
            {
                "ResourceConfig": {
                    "InstanceType": "ml.p3.2xlarge",
                    "InstanceCount": 1,
                    "VolumeSizeInGB": 10,
                }
            },
            "Invalid instance_type: ml.p3.2xlarge",
        ),
        (
            {
                "ResourceConfig": {
                    "InstanceType": "ml.m5.large",
                    "InstanceCount": 2,
                    "VolumeSizeInGB": 10,
                }
            },
            "Distributed training is not supported by xgb",
        ),
    ]
    for overrides, expected in cases:
        message = message_of(
            sagemaker.create_training_job, **training_request("bad-job", "xgb", **overrides)
        )
        assert expected in message
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    no_pipe = copy.deepcopy(TRAINING_SPEC)
    no_pipe["TrainingChannels"][0]["SupportedInputModes"] = ["Pipe"]
    sagemaker.create_algorithm(AlgorithmName="pipe-only", TrainingSpecification=no_pipe)
    message = message_of(sagemaker.create_training_job, **training_request("bad-job", "pipe-only"))
    assert "Invalid input mode: File. pipe-only only supports: ['Pipe']" in message
    assert 'Could not find algorithm "missing"' in message_of(
        sagemaker.create_training_job, **training_request("bad-job", "missing")
    )


def test_a_job_trains_with_the_algorithm_image_and_defaults(sagemaker: Any, data: Any) -> None:
    arn = sagemaker.create_algorithm(AlgorithmName="xgb", TrainingSpecification=TRAINING_SPEC)[
        "AlgorithmArn"
    ]
    sagemaker.create_training_job(**training_request("with-algorithm", arn))
    job = wait_for(
        sagemaker.describe_training_job,
        "TrainingJobStatus",
        ("Completed", "Failed", "Stopped"),
        TrainingJobName="with-algorithm",
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["HyperParameters"] == {
        "num_round": "30",
        "max_depth": "3",
        "eta": "0.3",
        "objective": "reg:squarederror",
    }
    algorithm = job["AlgorithmSpecification"]
    assert algorithm["AlgorithmName"] == arn and "TrainingImage" not in algorithm
    assert algorithm["MetricDefinitions"] == TRAINING_SPEC["MetricDefinitions"]
    metrics = {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]}
    assert metrics["validation:rmse"] < 0.5


def validation_profile(transform: bool = True) -> dict[str, Any]:
    request = training_request("unused", "unused")
    profile: dict[str, Any] = {
        "ProfileName": "smoke",
        "TrainingJobDefinition": {
            "TrainingInputMode": "File",
            "HyperParameters": {"num_round": "10"},
            "InputDataConfig": request["InputDataConfig"],
            "OutputDataConfig": request["OutputDataConfig"],
            "ResourceConfig": request["ResourceConfig"],
            "StoppingCondition": request["StoppingCondition"],
        },
    }
    if transform:
        profile["TransformJobDefinition"] = transform_definition()
    return profile


def transform_definition() -> dict[str, Any]:
    return {
        "TransformInput": {
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/alg/batch/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        "TransformOutput": {"S3OutputPath": "s3://bkt/alg/batch-out/"},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
    }


def test_algorithm_validation_runs_training_and_transform(sagemaker: Any, data: Any) -> None:
    sagemaker.create_algorithm(
        AlgorithmName="validated",
        TrainingSpecification=TRAINING_SPEC,
        InferenceSpecification=INFERENCE_SPEC,
        ValidationSpecification={
            "ValidationRole": ROLE,
            "ValidationProfiles": [validation_profile()],
        },
    )
    first = sagemaker.describe_algorithm(AlgorithmName="validated")
    assert first["AlgorithmStatus"] in ("Pending", "InProgress")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.delete_algorithm(AlgorithmName="validated")
    assert error_of(excinfo)[0] == "ConflictException"
    done = wait_for(
        sagemaker.describe_algorithm,
        "AlgorithmStatus",
        ("Completed", "Failed"),
        AlgorithmName="validated",
    )
    statuses = done["AlgorithmStatusDetails"]["ValidationStatuses"]
    assert done["AlgorithmStatus"] == "Completed", statuses
    assert statuses == [{"Name": "smoke", "Status": "Completed"}]
    jobs = sagemaker.list_training_jobs(NameContains="validated-val")["TrainingJobSummaries"]
    assert [j["TrainingJobStatus"] for j in jobs] == ["Completed"]
    transforms = sagemaker.list_transform_jobs(NameContains="validated-val")
    assert [j["TransformJobStatus"] for j in transforms["TransformJobSummaries"]] == ["Completed"]
    output = data.list_objects_v2(Bucket="bkt", Prefix="alg/batch-out/")["Contents"]
    assert [o["Key"] for o in output] == ["alg/batch-out/rows.csv.out"]


def test_a_failing_profile_fails_the_algorithm_with_the_reason(sagemaker: Any, data: Any) -> None:
    profile = validation_profile(transform=False)
    profile["TrainingJobDefinition"]["InputDataConfig"] = [
        channel("train", "s3://bkt/nothing-here/", "text/csv")
    ]
    sagemaker.create_algorithm(
        AlgorithmName="broken",
        TrainingSpecification=TRAINING_SPEC,
        ValidationSpecification={"ValidationRole": ROLE, "ValidationProfiles": [profile]},
    )
    done = wait_for(
        sagemaker.describe_algorithm,
        "AlgorithmStatus",
        ("Completed", "Failed"),
        AlgorithmName="broken",
    )
    assert done["AlgorithmStatus"] == "Failed"
    status = done["AlgorithmStatusDetails"]["ValidationStatuses"][0]
    assert status["Status"] == "Failed"
    assert "Training job broken-val-" in status["FailureReason"]
    assert "ended Failed" in status["FailureReason"]
    assert "failed validation" in message_of(
        sagemaker.create_training_job, **training_request("after", "broken")
    )


def test_model_package_validation_runs_a_transform_job(sagemaker: Any, data: Any) -> None:
    sagemaker.create_algorithm(AlgorithmName="xgb", TrainingSpecification=TRAINING_SPEC)
    sagemaker.create_training_job(**training_request("for-package", "xgb"))
    job = wait_for(
        sagemaker.describe_training_job,
        "TrainingJobStatus",
        ("Completed", "Failed", "Stopped"),
        TrainingJobName="for-package",
    )
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    inference = copy.deepcopy(INFERENCE_SPEC)
    inference["Containers"][0]["ModelDataUrl"] = job["ModelArtifacts"]["S3ModelArtifacts"]
    arn = sagemaker.create_model_package(
        ModelPackageName="xgb-package",
        InferenceSpecification=inference,
        ValidationSpecification={
            "ValidationRole": ROLE,
            "ValidationProfiles": [
                {"ProfileName": "batch", "TransformJobDefinition": transform_definition()}
            ],
        },
        CertifyForMarketplace=True,
    )["ModelPackageArn"]
    done = wait_for(
        sagemaker.describe_model_package,
        "ModelPackageStatus",
        ("Completed", "Failed"),
        ModelPackageName=arn,
    )
    details = done["ModelPackageStatusDetails"]
    assert done["ModelPackageStatus"] == "Completed", details
    assert details["ValidationStatuses"] == [{"Name": "batch", "Status": "Completed"}]
    assert details["ImageScanStatuses"] == [{"Name": "xgb-package", "Status": "Completed"}]
    transforms = sagemaker.list_transform_jobs(NameContains="xgb-package-val")
    assert [j["TransformJobStatus"] for j in transforms["TransformJobSummaries"]] == ["Completed"]
