"""The model registry through boto3: model package groups, versioned and unversioned model
packages, approval, and a registered version deployed to an endpoint that serves it."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from tests.api.test_hosting import predict_csv, wait_status
from tests.api.test_models import error_of
from tests.api.test_training_runs import ROLE, SKLEARN, create_job, wait_until
from tests.conftest import make_client
from tests.support.server import ServerProcess

ACCOUNT_PREFIX = "arn:aws:sagemaker:us-east-1:000000000000"
INFERENCE = {
    "Containers": [{"Image": SKLEARN, "ModelDataUrl": "s3://bkt/models/model.tar.gz"}],
    "SupportedContentTypes": ["text/csv"],
    "SupportedResponseMIMETypes": ["text/csv"],
}
POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Share",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::210987654321:root"},
                "Action": ["sagemaker:DescribeModelPackage"],
                "Resource": f"{ACCOUNT_PREFIX}:model-package/churn/*",
            }
        ],
    }
)


def version(sagemaker: Any, group: str, **extra: Any) -> str:
    arn: str = sagemaker.create_model_package(
        ModelPackageGroupName=group, InferenceSpecification=INFERENCE, **extra
    )["ModelPackageArn"]
    return arn


def failure(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as excinfo:
        call(**kwargs)
    code, message, _ = error_of(excinfo)
    return code, message


def test_groups_policies_and_tags(sagemaker: Any) -> None:
    arn = sagemaker.create_model_package_group(
        ModelPackageGroupName="Churn",
        ModelPackageGroupDescription="churn models",
        Tags=[{"Key": "team", "Value": "ml"}],
    )["ModelPackageGroupArn"]
    assert arn == f"{ACCOUNT_PREFIX}:model-package-group/churn"
    group = sagemaker.describe_model_package_group(ModelPackageGroupName=arn)
    assert group["ModelPackageGroupName"] == "Churn"
    assert group["ModelPackageGroupStatus"] == "Completed"
    assert group["CreatedBy"]["IamIdentity"]["Arn"] == "arn:aws:iam::000000000000:root"
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    code, message = failure(sagemaker.create_model_package_group, ModelPackageGroupName="churn")
    assert code == "ValidationException" and "already exists" in message
    sagemaker.create_model_package_group(ModelPackageGroupName="fraud")
    listed = sagemaker.list_model_package_groups(NameContains="CHU")
    assert [g["ModelPackageGroupName"] for g in listed["ModelPackageGroupSummaryList"]] == ["Churn"]
    page = sagemaker.list_model_package_groups(MaxResults=1, SortBy="Name", SortOrder="Ascending")
    assert page["ModelPackageGroupSummaryList"][0]["ModelPackageGroupName"] == "Churn"
    rest = sagemaker.list_model_package_groups(
        MaxResults=1, SortBy="Name", SortOrder="Ascending", NextToken=page["NextToken"]
    )
    assert rest["ModelPackageGroupSummaryList"][0]["ModelPackageGroupName"] == "fraud"

    assert failure(sagemaker.get_model_package_group_policy, ModelPackageGroupName="Churn")[0] == (
        "ValidationException"
    )
    code, _ = failure(
        sagemaker.put_model_package_group_policy,
        ModelPackageGroupName="Churn",
        ResourcePolicy="not json",
    )
    assert code == "ValidationException"
    put = sagemaker.put_model_package_group_policy(
        ModelPackageGroupName="Churn", ResourcePolicy=POLICY
    )
    assert put["ModelPackageGroupArn"] == arn
    got = sagemaker.get_model_package_group_policy(ModelPackageGroupName="Churn")
    assert json.loads(got["ResourcePolicy"]) == json.loads(POLICY)
    sagemaker.delete_model_package_group_policy(ModelPackageGroupName="Churn")
    assert failure(sagemaker.get_model_package_group_policy, ModelPackageGroupName="Churn")

    version(sagemaker, "Churn")
    code, message = failure(sagemaker.delete_model_package_group, ModelPackageGroupName="Churn")
    assert code == "ConflictException" and "contains model packages" in message
    sagemaker.delete_model_package(ModelPackageName=f"{ACCOUNT_PREFIX}:model-package/churn/1")
    sagemaker.delete_model_package_group(ModelPackageGroupName="Churn")
    code, message = failure(sagemaker.describe_model_package_group, ModelPackageGroupName="Churn")
    assert code == "ValidationException" and "does not exist" in message


def test_versions_are_numbered_in_order_and_never_reused(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="Churn")
    arns = [version(sagemaker, "Churn") for _ in range(3)]
    assert arns == [f"{ACCOUNT_PREFIX}:model-package/churn/{n}" for n in (1, 2, 3)]
    described = sagemaker.describe_model_package(ModelPackageName=arns[1])
    assert described["ModelPackageName"] == "Churn"
    assert described["ModelPackageGroupName"] == "Churn"
    assert described["ModelPackageVersion"] == 2
    assert described["ModelPackageStatus"] == "Completed"
    assert described["ModelPackageStatusDetails"] == {
        "ValidationStatuses": [],
        "ImageScanStatuses": [],
    }
    assert described["ModelApprovalStatus"] == "PendingManualApproval"
    assert described["InferenceSpecification"] == INFERENCE
    assert described["CreatedBy"]["IamIdentity"]["Arn"] == "arn:aws:iam::000000000000:root"
    assert described["CertifyForMarketplace"] is False
    sagemaker.delete_model_package(ModelPackageName=arns[2])
    assert version(sagemaker, "Churn").endswith("/churn/4")
    code, message = failure(sagemaker.describe_model_package, ModelPackageName=arns[2])
    assert code == "ValidationException" and "does not exist" in message
    token = "retry-1"
    first = version(sagemaker, "Churn", ClientToken=token)
    assert version(sagemaker, "Churn", ClientToken=token) == first

    code, message = failure(
        sagemaker.create_model_package,
        ModelPackageGroupName="Churn",
        ModelPackageName="both",
        InferenceSpecification=INFERENCE,
    )
    assert "Both ModelPackageName and ModelPackageGroupName" in message
    assert failure(sagemaker.create_model_package, InferenceSpecification=INFERENCE)[1] == (
        "Missing ARN."
    )
    code, message = failure(
        sagemaker.create_model_package,
        ModelPackageGroupName="nope",
        InferenceSpecification=INFERENCE,
    )
    assert code == "ValidationException" and "nope does not exist" in message


def test_unversioned_packages_and_every_list_filter(sagemaker: Any) -> None:
    unversioned = sagemaker.create_model_package(
        ModelPackageName="MarketModel",
        ModelPackageDescription="for sale",
        InferenceSpecification=INFERENCE,
        CertifyForMarketplace=False,
    )["ModelPackageArn"]
    assert unversioned == f"{ACCOUNT_PREFIX}:model-package/marketmodel"
    assert sagemaker.describe_model_package(ModelPackageName="MarketModel")["ModelPackageName"] == (
        "MarketModel"
    )
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    sagemaker.create_model_package_group(ModelPackageGroupName="fraud")
    churn = [version(sagemaker, "churn") for _ in range(3)]
    version(sagemaker, "fraud", ModelApprovalStatus="Approved")
    sagemaker.update_model_package(ModelPackageArn=churn[0], ModelApprovalStatus="Approved")

    def arns(**filters: Any) -> list[str]:
        pages = sagemaker.get_paginator("list_model_packages").paginate(
            **filters, PaginationConfig={"PageSize": 2}
        )
        return [s["ModelPackageArn"] for page in pages for s in page["ModelPackageSummaryList"]]

    assert arns() == [unversioned]  # Unversioned is the default type
    assert len(arns(ModelPackageType="Versioned")) == 4
    assert len(arns(ModelPackageType="Both")) == 5
    assert arns(ModelPackageGroupName="churn") == churn
    assert arns(ModelPackageGroupName="churn", SortOrder="Descending") == churn[::-1]
    assert arns(ModelPackageGroupName="churn", ModelApprovalStatus="Approved") == [churn[0]]
    assert len(arns(ModelApprovalStatus="Approved", ModelPackageType="Both")) == 2
    assert arns(NameContains="market") == [unversioned]
    created = sagemaker.describe_model_package(ModelPackageName=churn[1])["CreationTime"]
    assert arns(ModelPackageGroupName="churn", CreationTimeAfter=created) == churn[2:]
    assert arns(ModelPackageGroupName="churn", CreationTimeBefore=created) == churn[:1]
    summary = sagemaker.list_model_packages(ModelPackageGroupName="churn")[
        "ModelPackageSummaryList"
    ][0]
    assert summary["ModelPackageVersion"] == 1
    assert summary["ModelApprovalStatus"] == "Approved"
    assert summary["ModelPackageStatus"] == "Completed"
    batch = sagemaker.batch_describe_model_package(
        ModelPackageArnList=[churn[0], f"{ACCOUNT_PREFIX}:model-package/churn/99"]
    )
    assert batch["ModelPackageSummaries"][churn[0]]["InferenceSpecification"] == INFERENCE
    error = batch["BatchDescribeModelPackageErrorMap"][f"{ACCOUNT_PREFIX}:model-package/churn/99"]
    assert "does not exist" in error["ErrorResponse"]


def test_update_model_package(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    arn = version(
        sagemaker,
        "churn",
        CustomerMetadataProperties={"owner": "ana", "stage": "dev"},
        ModelMetrics={
            "ModelQuality": {
                "Statistics": {"ContentType": "application/json", "S3Uri": "s3://bkt/stats.json"}
            }
        },
        Domain="MACHINE_LEARNING",
        Task="REGRESSION",
        SamplePayloadUrl="s3://bkt/payload.tar.gz",
        MetadataProperties={"GeneratedBy": "arn:aws:sagemaker:us-east-1:000000000000:pipeline/p"},
    )
    sagemaker.update_model_package(
        ModelPackageArn=arn,
        ModelApprovalStatus="Approved",
        ApprovalDescription="looks good",
        CustomerMetadataProperties={"reviewer": "bo"},
        CustomerMetadataPropertiesToRemove=["stage"],
        AdditionalInferenceSpecificationsToAdd=[
            {"Name": "gpu", "Containers": [{"Image": SKLEARN}]}
        ],
        ModelLifeCycle={"Stage": "Production", "StageStatus": "Approved"},
        ModelCard={"ModelCardStatus": "Draft", "ModelCardContent": "{}"},
    )
    described = sagemaker.describe_model_package(ModelPackageName=arn)
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "looks good"
    assert described["CustomerMetadataProperties"] == {"owner": "ana", "reviewer": "bo"}
    assert described["AdditionalInferenceSpecifications"][0]["Name"] == "gpu"
    assert described["ModelLifeCycle"] == {"Stage": "Production", "StageStatus": "Approved"}
    assert described["ModelCard"]["ModelCardStatus"] == "Draft"
    assert described["LastModifiedBy"]["IamIdentity"]["Arn"].endswith(":root")
    assert described["Domain"] == "MACHINE_LEARNING" and described["Task"] == "REGRESSION"
    assert described["ModelMetrics"]["ModelQuality"]["Statistics"]["S3Uri"] == "s3://bkt/stats.json"
    assert described["MetadataProperties"]["GeneratedBy"].endswith("pipeline/p")
    code, message = failure(
        sagemaker.update_model_package,
        ModelPackageArn=arn,
        AdditionalInferenceSpecificationsToAdd=[
            {"Name": "gpu", "Containers": [{"Image": SKLEARN}]}
        ],
    )
    assert code == "ValidationException" and "gpu already exists" in message
    code, message = failure(
        sagemaker.update_model_package,
        ModelPackageArn=arn,
        CustomerMetadataProperties={"x": "1"},
        CustomerMetadataPropertiesToRemove=["x"],
    )
    assert "same key" in message
    unversioned = sagemaker.create_model_package(
        ModelPackageName="solo", InferenceSpecification=INFERENCE
    )["ModelPackageArn"]
    code, message = failure(
        sagemaker.update_model_package, ModelPackageArn=unversioned, ModelApprovalStatus="Approved"
    )
    assert "versioned model packages only" in message


def test_create_model_from_a_package_follows_the_approval_rule(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    arn = version(sagemaker, "churn")
    code, message = failure(
        sagemaker.create_model,
        ModelName="m",
        PrimaryContainer={"ModelPackageName": arn},
        ExecutionRoleArn=ROLE,
    )
    assert code == "ValidationException"
    assert "ModelApprovalStatus must be Approved to deploy the model" in message
    assert failure(sagemaker.describe_model, ModelName="m")[0] == "ValidationException"
    sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")
    sagemaker.create_model(
        ModelName="m",
        PrimaryContainer={"ModelPackageName": arn, "Environment": {"A": "1"}},
        ExecutionRoleArn=ROLE,
    )
    model = sagemaker.describe_model(ModelName="m")
    assert model["PrimaryContainer"] == {"ModelPackageName": arn, "Environment": {"A": "1"}}
    code, message = failure(
        sagemaker.create_model,
        ModelName="m2",
        PrimaryContainer={"ModelPackageName": f"{ACCOUNT_PREFIX}:model-package/churn/7"},
        ExecutionRoleArn=ROLE,
    )
    assert "does not exist" in message


TRAIN = """
import os
import joblib
import numpy as np
from sklearn.linear_model import LinearRegression

data = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "rows.csv"), delimiter=",")
model = LinearRegression().fit(data[:, 1:], data[:, 0])
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
"""


def test_train_register_approve_deploy_and_invoke(s3: Any, server: ServerProcess) -> None:
    features = np.random.default_rng(3).uniform(size=(40, 2))
    labels = 3 * features[:, 0] - features[:, 1] + 0.5
    rows = "\n".join(
        ",".join(str(v) for v in (y, *x)) for y, x in zip(labels, features, strict=True)
    )
    s3.put_object(Bucket="bkt", Key="data/train/rows.csv", Body=rows.encode())
    sagemaker = make_client(server.url, "sagemaker")
    create_job(sagemaker, s3, "registry-train", TRAIN)
    job = wait_until(sagemaker, "registry-train")
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    artifacts = job["ModelArtifacts"]["S3ModelArtifacts"]
    sagemaker.create_model_package_group(ModelPackageGroupName="regression")
    arns = [
        sagemaker.create_model_package(
            ModelPackageGroupName="regression",
            ModelPackageDescription=f"candidate {n}",
            InferenceSpecification={
                "Containers": [{"Image": SKLEARN, "ModelDataUrl": artifacts}],
                "SupportedContentTypes": ["text/csv"],
                "SupportedResponseMIMETypes": ["text/csv"],
            },
        )["ModelPackageArn"]
        for n in (1, 2, 3)
    ]
    assert [a.rsplit("/", 1)[1] for a in arns] == ["1", "2", "3"]
    sagemaker.update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Approved")
    approved = sagemaker.list_model_packages(
        ModelPackageGroupName="regression", ModelApprovalStatus="Approved"
    )["ModelPackageSummaryList"]
    assert [p["ModelPackageArn"] for p in approved] == [arns[1]]
    sagemaker.create_model(
        ModelName="registered",
        PrimaryContainer={"ModelPackageName": arns[1]},
        ExecutionRoleArn=ROLE,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName="registered",
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": "registered",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.m5.large",
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName="registered", EndpointConfigName="registered")
    started = time.monotonic()
    endpoint = wait_status(sagemaker, "registered", ("InService", "Failed"))
    assert endpoint["EndpointStatus"] == "InService", endpoint.get("FailureReason")
    assert time.monotonic() - started < 60
    runtime = make_client(server.url, "sagemaker-runtime")
    values, _ = predict_csv(runtime, "registered", "0.2,0.4\n0.9,0.1\n")
    assert np.allclose(values, [3 * 0.2 - 0.4 + 0.5, 3 * 0.9 - 0.1 + 0.5], atol=1e-6)
    sagemaker.delete_endpoint(EndpointName="registered")
