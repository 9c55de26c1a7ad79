"""The training-job API through real boto3 clients against a live server: what Create, Describe,
List, Stop, Update and Delete accept, refuse and return.

The controller really runs the jobs created here, so these tests assert only what does not
depend on how far a job has got: what Create and Describe return at once, the refusals, the
listing and the rules of Stop, Update and Delete. Jobs that must stay InProgress run a script
that sleeps; jobs whose outcome does not matter name an image sagestack does not run.
"""

from __future__ import annotations

import copy
import io
import json
import tarfile
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

NAME = "sagemaker-scikit-learn-2026-11-22-11-02-14-070"
SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
UNKNOWN_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/does-not-exist:1"
RULES_IMAGE = "503895931360.dkr.ecr.us-east-1.amazonaws.com/sagemaker-debugger-rules:latest"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
ARN_PREFIX = "arn:aws:sagemaker:us-east-1:000000000000:training-job/"
NOT_FOUND = "Requested resource not found."

#: CreateTrainingJob exactly as SDK 2.x's SKLearn estimator sends it (BUCKET = "bkt").
SDK_BODY: dict[str, Any] = {
    "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": SKLEARN},
    "OutputDataConfig": {"S3OutputPath": "s3://bkt/"},
    "TrainingJobName": NAME,
    "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    "ResourceConfig": {"VolumeSizeInGB": 30, "InstanceCount": 1, "InstanceType": "ml.m5.large"},
    "RoleArn": ROLE,
    "InputDataConfig": [
        {
            "DataSource": {
                "S3DataSource": {
                    "S3DataType": "S3Prefix",
                    "S3Uri": "s3://bkt/data/train",
                    "S3DataDistributionType": "FullyReplicated",
                }
            },
            "ChannelName": "train",
        }
    ],
    "HyperParameters": {
        "n-estimators": "5",
        "sagemaker_submit_directory": f'"s3://bkt/{NAME}/source/sourcedir.tar.gz"',
        "sagemaker_program": '"train.py"',
        "sagemaker_container_log_level": "20",
        "sagemaker_job_name": f'"{NAME}"',
        "sagemaker_region": '"us-east-1"',
    },
    "DebugHookConfig": {"S3OutputPath": "s3://bkt/", "CollectionConfigurations": []},
    "ProfilerConfig": {"S3OutputPath": "s3://bkt/", "DisableProfiler": False},
}


def body(name: str = NAME, **overrides: Any) -> dict[str, Any]:
    request = copy.deepcopy(SDK_BODY)
    request["TrainingJobName"] = name
    request.update(overrides)
    return request


def unrunnable(name: str, **overrides: Any) -> dict[str, Any]:
    """A job whose image sagestack does not run: it fails as soon as the controller sees it."""
    return body(
        name,
        AlgorithmSpecification={"TrainingInputMode": "File", "TrainingImage": UNKNOWN_IMAGE},
        **overrides,
    )


def create(client: Any, request: dict[str, Any]) -> str:
    arn: str = client.create_training_job(**request)["TrainingJobArn"]
    return arn


def refused(client: Any, request: dict[str, Any]) -> tuple[str, str, int]:
    """The error CreateTrainingJob answers `request` with; nothing may have been stored."""
    with pytest.raises(ClientError) as excinfo:
        client.create_training_job(**request)
    with pytest.raises(ClientError) as missing:
        client.describe_training_job(TrainingJobName=request["TrainingJobName"])
    assert error_of(missing) == ("ValidationException", NOT_FOUND, 400)
    return error_of(excinfo)


@pytest.fixture
def running(s3: Any, server: ServerProcess) -> tuple[Any, str]:
    """A sagemaker client and the name of a job whose script sleeps, so it stays InProgress."""
    sagemaker = make_client(server.url, "sagemaker")
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        script = b"import time\ntime.sleep(120)\n"
        info = tarfile.TarInfo("train.py")
        info.size = len(script)
        tar.addfile(info, io.BytesIO(script))
    s3.put_object(Bucket="bkt", Key="sleepy/source/sourcedir.tar.gz", Body=archive.getvalue())
    s3.put_object(Bucket="bkt", Key="data/train/rows.csv", Body=b"1,2\n")
    request = body("sleepy")
    request["HyperParameters"]["sagemaker_submit_directory"] = json.dumps(
        "s3://bkt/sleepy/source/sourcedir.tar.gz"
    )
    create(sagemaker, request)
    return sagemaker, "sleepy"


def wait_for_end(client: Any, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        job: dict[str, Any] = client.describe_training_job(TrainingJobName=name)
        if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return job
        assert time.monotonic() < deadline, f"{name} is still {job['TrainingJobStatus']}"
        time.sleep(0.05)


# -- CreateTrainingJob and DescribeTrainingJob ------------------------------------------------


def test_create_returns_the_lowercased_arn(sagemaker: Any) -> None:
    assert create(sagemaker, unrunnable("My-Job")) == ARN_PREFIX + "my-job"


def test_describe_renders_the_sdk_request_with_sagemaker_defaults(sagemaker: Any) -> None:
    before = datetime.now().astimezone() - timedelta(seconds=5)
    arn = create(sagemaker, body())
    job = sagemaker.describe_training_job(TrainingJobName=NAME)
    assert job["TrainingJobName"] == NAME
    assert job["TrainingJobArn"] == arn
    assert job["TrainingJobStatus"] in ("InProgress", "Failed")
    assert job["SecondaryStatusTransitions"][0]["Status"] == "Starting"
    assert job["SecondaryStatusTransitions"][0]["StatusMessage"] == (
        "Preparing the instances for training"
    )
    assert job["AlgorithmSpecification"] == {
        "TrainingImage": SKLEARN,
        "TrainingInputMode": "File",
        "EnableSageMakerMetricsTimeSeries": False,
    }
    assert job["RoleArn"] == ROLE
    assert job["InputDataConfig"] == [
        {**SDK_BODY["InputDataConfig"][0], "CompressionType": "None", "RecordWrapperType": "None"}
    ]
    assert job["OutputDataConfig"] == {
        "S3OutputPath": "s3://bkt/",
        "KmsKeyId": "",
        "CompressionType": "GZIP",
    }
    assert job["ResourceConfig"] == SDK_BODY["ResourceConfig"]
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert job["HyperParameters"] == SDK_BODY["HyperParameters"]
    assert job["DebugHookConfig"] == SDK_BODY["DebugHookConfig"]
    assert job["ProfilerConfig"] == {
        "S3OutputPath": "s3://bkt/",
        "DisableProfiler": False,
        "ProfilingIntervalInMilliseconds": 500,
    }
    assert job["ProfilingStatus"] == "Enabled"
    assert job["EnableNetworkIsolation"] is False
    assert job["EnableInterContainerTrafficEncryption"] is False
    assert job["EnableManagedSpotTraining"] is False
    assert before < job["CreationTime"] <= job["LastModifiedTime"]
    for absent in ("Tags", "VpcConfig", "CheckpointConfig", "StopRequested", "WarmPoolStatus"):
        assert absent not in job


def test_describe_fills_what_a_minimal_request_leaves_out(sagemaker: Any) -> None:
    create(
        sagemaker,
        {
            "TrainingJobName": "minimal",
            "AlgorithmSpecification": {"TrainingInputMode": "File", "TrainingImage": UNKNOWN_IMAGE},
            "RoleArn": ROLE,
            "OutputDataConfig": {"S3OutputPath": "s3://bkt/out"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        },
    )
    job = sagemaker.describe_training_job(TrainingJobName="minimal")
    assert "InputDataConfig" not in job
    assert job["ModelArtifacts"] == {"S3ModelArtifacts": "s3://bkt/out/minimal/output/model.tar.gz"}
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert job["ProfilingStatus"] == "Disabled"
    for absent in ("HyperParameters", "ProfilerConfig", "DebugHookConfig", "Environment"):
        assert absent not in job


def test_describe_echoes_optional_sections(sagemaker: Any) -> None:
    create(
        sagemaker,
        unrunnable(
            "sections",
            VpcConfig={"SecurityGroupIds": ["sg-12345678"], "Subnets": ["subnet-12345678"]},
            CheckpointConfig={"S3Uri": "s3://bkt/checkpoints", "LocalPath": "/opt/ml/checkpoints"},
            Environment={"MODE": "fast"},
            EnableNetworkIsolation=True,
            EnableManagedSpotTraining=True,
            StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
            TensorBoardOutputConfig={"S3OutputPath": "s3://bkt/tensorboard"},
            RetryStrategy={"MaximumRetryAttempts": 2},
        ),
    )
    job = sagemaker.describe_training_job(TrainingJobName="sections")
    assert job["VpcConfig"]["Subnets"] == ["subnet-12345678"]
    assert job["CheckpointConfig"]["S3Uri"] == "s3://bkt/checkpoints"
    assert job["Environment"] == {"MODE": "fast"}
    assert job["EnableNetworkIsolation"] is True
    assert job["EnableManagedSpotTraining"] is True
    assert job["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert job["TensorBoardOutputConfig"]["S3OutputPath"] == "s3://bkt/tensorboard"
    assert job["RetryStrategy"] == {"MaximumRetryAttempts": 2}


def test_tags_given_on_create_are_listed_on_the_job_arn(sagemaker: Any) -> None:
    arn = create(sagemaker, unrunnable("tagged", Tags=[{"Key": "team", "Value": "ml"}]))
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert "Tags" not in sagemaker.describe_training_job(TrainingJobName="tagged")


def test_an_existing_name_is_in_use_whatever_its_case(sagemaker: Any) -> None:
    create(sagemaker, unrunnable("taken"))
    with pytest.raises(ClientError) as excinfo:
        create(sagemaker, unrunnable("TAKEN"))
    assert error_of(excinfo) == (
        "ResourceInUse",
        "Training job names must be unique within an AWS account and region, and a training "
        f"job with this name already exists ({ARN_PREFIX}taken)",
        400,
    )


def test_describe_of_an_unknown_job(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_training_job(TrainingJobName="nope")
    assert error_of(excinfo) == ("ValidationException", NOT_FOUND, 400)


def channel(name: str = "train", **extra: Any) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bkt/data"}},
        **extra,
    }


def algorithm(**fields: Any) -> dict[str, Any]:
    return {"TrainingInputMode": "File", **fields}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        (
            {"InputDataConfig": [channel(), channel()]},
            "Channel names must be unique within InputDataConfig; duplicated: train.",
        ),
        (
            {"AlgorithmSpecification": algorithm()},
            "Specify exactly one of TrainingImage or AlgorithmName in AlgorithmSpecification.",
        ),
        (
            {"AlgorithmSpecification": algorithm(TrainingImage=SKLEARN, AlgorithmName="algo")},
            "Specify exactly one of TrainingImage or AlgorithmName in AlgorithmSpecification.",
        ),
        (
            {"AlgorithmSpecification": algorithm(AlgorithmName="my-algorithm")},
            'Could not find algorithm "my-algorithm".',
        ),
        (
            {"AlgorithmSpecification": {"TrainingInputMode": "Pipe", "TrainingImage": SKLEARN}},
            "Pipe input mode (AlgorithmSpecification.TrainingInputMode) is not supported by "
            "sagestack yet.",
        ),
        (
            {"InputDataConfig": [channel(InputMode="Pipe")]},
            "Pipe input mode (channel train) is not supported by sagestack yet.",
        ),
        (
            {"InputDataConfig": [channel(CompressionType="Gzip")]},
            "Invalid compression type for channel train: File mode only supports NONE, "
            "got Gzip instead",
        ),
        (
            {"StoppingCondition": {"MaxRuntimeInSeconds": 28 * 86400 + 1}},
            "Invalid MaxRuntimeInSeconds: 2419201. A training job can run for at most "
            "2419200 seconds (28 days).",
        ),
        (
            {"StoppingCondition": {"MaxRuntimeInSeconds": 60, "MaxWaitTimeInSeconds": 120}},
            "Invalid MaxWaitTimeInSeconds. It is only supported when EnableManagedSpotTraining "
            "is set to true",
        ),
        (
            {
                "EnableManagedSpotTraining": True,
                "StoppingCondition": {"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 300},
            },
            "Invalid MaxWaitTimeInSeconds. It must be present and be greater than or equal to "
            "MaxRuntimeInSeconds",
        ),
        (
            {"CheckpointConfig": {"S3Uri": "https://bkt.s3.amazonaws.com/checkpoints"}},
            "Invalid S3 URI for CheckpointConfig.S3Uri: 'https://bkt.s3.amazonaws.com/"
            "checkpoints'. Specify it as s3://bucket/prefix.",
        ),
        (
            {"OutputDataConfig": {"S3OutputPath": "s3://Not_A_Bucket/out"}},
            "Invalid S3 URI for OutputDataConfig.S3OutputPath",
        ),
        (
            {
                "InputDataConfig": [
                    {
                        "ChannelName": "train",
                        "DataSource": {
                            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://ab/x"}
                        },
                    }
                ]
            },
            "Invalid S3 URI for channel train",
        ),
        (
            {"HyperParameters": {f"p{i}": "1" for i in range(101)}},
            "at 'hyperParameters' failed to satisfy constraint: Member must have length less "
            "than or equal to 100",
        ),
        (
            {"ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 0}},
            "1 validation error detected: Value '0' at 'resourceConfig.instanceCount' failed to "
            "satisfy constraint: Member must have value greater than or equal to 1",
        ),
        (
            {"ResourceConfig": {"InstanceCount": 1, "VolumeSizeInGB": 30}},
            "ResourceConfig must specify InstanceType and InstanceCount.",
        ),
        (
            {
                "InputDataConfig": [
                    {
                        "ChannelName": "train",
                        "DataSource": {
                            "FileSystemDataSource": {
                                "FileSystemId": "fs-12345678",
                                "FileSystemAccessMode": "ro",
                                "FileSystemType": "EFS",
                                "DirectoryPath": "/data",
                            }
                        },
                    }
                ]
            },
            "FileSystemDataSource (channel train) is not supported by sagestack yet.",
        ),
    ],
)
def test_create_refuses_inconsistent_requests(
    unchecked_sagemaker: Any, overrides: dict[str, Any], fragment: str
) -> None:
    code, message, status = refused(unchecked_sagemaker, body("refused", **overrides))
    assert (code, status) == ("ValidationException", 400)
    assert fragment in message


def test_create_requires_an_algorithm_and_resources(unchecked_sagemaker: Any) -> None:
    without_algorithm = body("refused")
    del without_algorithm["AlgorithmSpecification"]
    assert refused(unchecked_sagemaker, without_algorithm)[1] == (
        "AlgorithmSpecification is required for a training job."
    )
    without_resources = body("refused")
    del without_resources["ResourceConfig"]
    assert refused(unchecked_sagemaker, without_resources)[1] == (
        "ResourceConfig is required for a training job."
    )


def test_create_validates_against_the_model(unchecked_sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        unchecked_sagemaker.create_training_job(**body("bad_name"))
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert "at 'trainingJobName' failed to satisfy constraint" in message
    assert names(unchecked_sagemaker.list_training_jobs()) == []


def test_fast_file_mode_is_accepted(sagemaker: Any) -> None:
    create(
        sagemaker,
        body(
            "fast-file",
            AlgorithmSpecification={
                "TrainingInputMode": "FastFile",
                "TrainingImage": UNKNOWN_IMAGE,
            },
        ),
    )
    job = sagemaker.describe_training_job(TrainingJobName="fast-file")
    assert job["AlgorithmSpecification"]["TrainingInputMode"] == "FastFile"


# -- ListTrainingJobs ---------------------------------------------------------------------------


def names(page: dict[str, Any]) -> list[str]:
    return [summary["TrainingJobName"] for summary in page["TrainingJobSummaries"]]


def test_list_newest_first_with_summaries(sagemaker: Any) -> None:
    for name in ("job-a", "job-b", "other-c"):
        create(sagemaker, unrunnable(name))
    page = sagemaker.list_training_jobs()
    assert names(page) == ["other-c", "job-b", "job-a"]
    assert "NextToken" not in page
    summary = page["TrainingJobSummaries"][0]
    assert summary["TrainingJobArn"] == ARN_PREFIX + "other-c"
    assert summary["TrainingJobStatus"] in ("InProgress", "Failed")
    assert summary["SecondaryStatus"] in ("Starting", "Failed")
    assert summary["CreationTime"] <= summary["LastModifiedTime"]
    if "TrainingEndTime" in summary:
        assert summary["TrainingJobStatus"] == "Failed"


def test_list_filters_by_name_and_time(sagemaker: Any) -> None:
    for name in ("job-a", "job-b", "other-c"):
        create(sagemaker, unrunnable(name))
    assert names(sagemaker.list_training_jobs(NameContains="job")) == ["job-b", "job-a"]
    created = {
        name: sagemaker.describe_training_job(TrainingJobName=name)["CreationTime"]
        for name in ("job-a", "job-b", "other-c")
    }
    after_a = sagemaker.list_training_jobs(CreationTimeAfter=created["job-a"])
    assert names(after_a) == ["other-c", "job-b"]
    before_c = sagemaker.list_training_jobs(CreationTimeBefore=created["other-c"])
    assert names(before_c) == ["job-b", "job-a"]
    future = datetime.now().astimezone() + timedelta(hours=1)
    assert names(sagemaker.list_training_jobs(LastModifiedTimeAfter=future)) == []
    assert len(names(sagemaker.list_training_jobs(LastModifiedTimeBefore=future))) == 3


def test_list_sorts_by_name_and_pages(sagemaker: Any) -> None:
    for name in ("b-job", "a-job", "C-job"):
        create(sagemaker, unrunnable(name))
    first = sagemaker.list_training_jobs(SortBy="Name", SortOrder="Ascending", MaxResults=2)
    assert names(first) == ["a-job", "b-job"]
    second = sagemaker.list_training_jobs(
        SortBy="Name", SortOrder="Ascending", MaxResults=2, NextToken=first["NextToken"]
    )
    assert names(second) == ["C-job"]
    assert "NextToken" not in second
    descending = sagemaker.list_training_jobs(SortBy="Name", SortOrder="Descending")
    assert names(descending) == ["C-job", "b-job", "a-job"]
    oldest_first = sagemaker.list_training_jobs(SortBy="CreationTime", SortOrder="Ascending")
    assert names(oldest_first) == ["b-job", "a-job", "C-job"]


def test_list_sorts_by_status_then_name(running: tuple[Any, str]) -> None:
    sagemaker, sleepy = running
    for name in ("x-fails", "y-fails"):
        create(sagemaker, unrunnable(name))
    for order in ("Ascending", "Descending"):
        page = sagemaker.list_training_jobs(SortBy="Status", SortOrder=order)
        keys = [
            (s["TrainingJobStatus"], s["TrainingJobName"]) for s in page["TrainingJobSummaries"]
        ]
        assert sorted(keys, reverse=order == "Descending") == keys
        assert {name for _, name in keys} == {sleepy, "x-fails", "y-fails"}
    sagemaker.stop_training_job(TrainingJobName=sleepy)


def test_list_by_status(sagemaker: Any) -> None:
    create(sagemaker, unrunnable("some-job"))
    assert names(sagemaker.list_training_jobs(StatusEquals="Completed")) == []
    for status in ("InProgress", "Failed"):
        page = sagemaker.list_training_jobs(StatusEquals=status)
        assert all(s["TrainingJobStatus"] == status for s in page["TrainingJobSummaries"])


def test_warm_pool_and_training_plan_filters_match_nothing(sagemaker: Any) -> None:
    create(sagemaker, unrunnable("some-job"))
    assert names(sagemaker.list_training_jobs(WarmPoolStatusEquals="Available")) == []
    plan = "arn:aws:sagemaker:us-east-1:000000000000:training-plan/my-plan"
    assert names(sagemaker.list_training_jobs(TrainingPlanArnEquals=plan)) == []


def test_a_token_for_another_listing_is_refused(sagemaker: Any) -> None:
    for name in ("job-a", "job-b"):
        create(sagemaker, unrunnable(name))
    token = sagemaker.list_training_jobs(MaxResults=1)["NextToken"]
    with pytest.raises(ClientError) as excinfo:
        sagemaker.list_training_jobs(MaxResults=1, NextToken=token, NameContains="job")
    assert error_of(excinfo)[0] == "ValidationException"


# -- StopTrainingJob ----------------------------------------------------------------------------


def test_stop_moves_an_in_progress_job_to_stopping(running: tuple[Any, str]) -> None:
    sagemaker, sleepy = running
    assert sagemaker.describe_training_job(TrainingJobName=sleepy)["TrainingJobStatus"] == (
        "InProgress"
    )
    sagemaker.stop_training_job(TrainingJobName=sleepy)
    job = sagemaker.describe_training_job(TrainingJobName=sleepy)
    assert job["TrainingJobStatus"] in ("Stopping", "Stopped")
    transitions = [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert "Stopping" in transitions
    stopping = transitions.index("Stopping")
    assert job["SecondaryStatusTransitions"][stopping]["StatusMessage"] == (
        "Stopping the training job"
    )
    assert all("EndTime" in t for t in job["SecondaryStatusTransitions"][:stopping])
    with pytest.raises(ClientError) as excinfo:
        sagemaker.stop_training_job(TrainingJobName=sleepy)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert message in (
        "The request was rejected because the training job is in status Stopping.",
        "The request was rejected because the training job is in status Stopped.",
    )


def test_stop_of_an_unknown_job(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.stop_training_job(TrainingJobName="nope")
    assert error_of(excinfo) == ("ValidationException", NOT_FOUND, 400)


# -- UpdateTrainingJob --------------------------------------------------------------------------


def test_an_empty_update_is_refused(sagemaker: Any) -> None:
    create(sagemaker, unrunnable("job"))
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_training_job(TrainingJobName="job")
    assert error_of(excinfo) == (
        "ValidationException",
        "Invalid UpdateTrainingJobRequest, the request cannot be empty",
        400,
    )


def test_update_merges_profiler_and_keep_alive_into_the_job(sagemaker: Any) -> None:
    arn = create(sagemaker, body("job"))
    rule = {
        "RuleConfigurationName": "ProfilerReport",
        "RuleEvaluatorImage": RULES_IMAGE,
    }
    result = sagemaker.update_training_job(
        TrainingJobName="job",
        ProfilerConfig={"ProfilingIntervalInMilliseconds": 1000},
        ProfilerRuleConfigurations=[rule],
        ResourceConfig={"KeepAlivePeriodInSeconds": 600},
    )
    assert result["TrainingJobArn"] == arn
    job = sagemaker.describe_training_job(TrainingJobName="job")
    assert job["ProfilerConfig"] == {
        "S3OutputPath": "s3://bkt/",
        "DisableProfiler": False,
        "ProfilingIntervalInMilliseconds": 1000,
    }
    assert job["ProfilerRuleConfigurations"][0]["RuleConfigurationName"] == "ProfilerReport"
    assert job["ResourceConfig"] == {**SDK_BODY["ResourceConfig"], "KeepAlivePeriodInSeconds": 600}
    assert job["LastModifiedTime"] >= job["CreationTime"]
    sagemaker.update_training_job(TrainingJobName="job", ProfilerConfig={"DisableProfiler": True})
    job = sagemaker.describe_training_job(TrainingJobName="job")
    assert job["ProfilingStatus"] == "Disabled"
    assert job["ProfilerConfig"]["ProfilingIntervalInMilliseconds"] == 1000


def test_remote_debug_is_updatable_only_while_downloading_or_training(sagemaker: Any) -> None:
    create(sagemaker, unrunnable("job"))
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_training_job(
            TrainingJobName="job", RemoteDebugConfig={"EnableRemoteDebug": True}
        )
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert message.startswith(
        "RemoteDebugConfig can be updated only while the training job's SecondaryStatus is "
        "Downloading or Training"
    )


def test_update_of_an_unknown_job(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_training_job(
            TrainingJobName="nope", ResourceConfig={"KeepAlivePeriodInSeconds": 60}
        )
    assert error_of(excinfo) == ("ValidationException", NOT_FOUND, 400)


# -- DeleteTrainingJob --------------------------------------------------------------------------


def test_delete_refuses_a_job_in_progress(running: tuple[Any, str]) -> None:
    sagemaker, sleepy = running
    with pytest.raises(ClientError) as excinfo:
        sagemaker.delete_training_job(TrainingJobName=sleepy)
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException"
    assert message.startswith("The request was rejected because the training job is in status ")
    assert sagemaker.describe_training_job(TrainingJobName=sleepy)["TrainingJobName"] == sleepy
    sagemaker.stop_training_job(TrainingJobName=sleepy)


def test_delete_of_an_ended_job_frees_its_name(sagemaker: Any) -> None:
    create(sagemaker, unrunnable("ends"))
    assert wait_for_end(sagemaker, "ends")["TrainingJobStatus"] == "Failed"
    sagemaker.delete_training_job(TrainingJobName="ends")
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_training_job(TrainingJobName="ends")
    assert error_of(excinfo) == ("ValidationException", NOT_FOUND, 400)
    assert names(sagemaker.list_training_jobs()) == []
    create(sagemaker, unrunnable("ends"))


def test_delete_of_an_unknown_job(sagemaker: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sagemaker.delete_training_job(TrainingJobName="nope")
    assert error_of(excinfo) == ("ValidationException", NOT_FOUND, 400)
