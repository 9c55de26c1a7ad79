"""SageMaker Projects with CloudFormation template providers, through boto3 against a live
server: templates in S3 really provision (and update, and delete) SageMaker resources."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from sklearn.linear_model import LinearRegression

from tests.api.test_hosting import SKLEARN, predict_csv, tarball
from tests.api.test_models import error_of
from tests.conftest import make_client
from tests.support.server import ServerProcess

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"

HOSTING = """
AWSTemplateFormatVersion: 2010-09-09
Description: a model served by an endpoint
Parameters:
  ArtifactKey:
    Type: String
  EndpointName:
    Type: String
  InstanceType:
    Type: String
    Default: ml.m5.large
    AllowedValues: [ml.m5.large, ml.m5.xlarge]
  Stage:
    Type: String
    Default: dev
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Model:
    Type: AWS::SageMaker::Model
    Properties:
      ExecutionRoleArn: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/SageMakerRole"
      PrimaryContainer:
        Image: %(image)s
        ModelDataUrl: !Join ["", ["s3://bkt/", !Ref ArtifactKey]]
  Config:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      ProductionVariants:
        - VariantName: AllTraffic
          ModelName: !GetAtt Model.ModelName
          InitialInstanceCount: !If [IsProd, 2, 1]
          InitialVariantWeight: 1
          InstanceType: !Ref InstanceType
  Endpoint:
    Type: AWS::SageMaker::Endpoint
    Properties:
      EndpointName: !Ref EndpointName
      EndpointConfigName: !GetAtt Config.EndpointConfigName
      Tags:
        - Key: stack
          Value: !Ref AWS::StackName
%(extra)s
"""


def hosting_template(extra: str = "") -> bytes:
    return (HOSTING % {"image": SKLEARN, "extra": extra}).encode()


def linear_artifact(slope: float) -> tuple[LinearRegression, bytes]:
    import io

    import joblib

    features = np.random.default_rng(3).uniform(size=(20, 2))
    model = LinearRegression().fit(features, slope * features[:, 0] + 1)
    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return model, tarball({"model.joblib": buffer.getvalue()})


@pytest.fixture
def clients(s3: Any, server: ServerProcess) -> tuple[Any, Any, Any]:
    return make_client(server.url, "sagemaker"), s3, make_client(server.url, "sagemaker-runtime")


def wait_project(sagemaker: Any, name: str, *wanted: str) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while True:
        project: dict[str, Any] = sagemaker.describe_project(ProjectName=name)
        if project["ProjectStatus"] in wanted:
            return project
        assert time.monotonic() < deadline, project
        time.sleep(0.1)


def wait_gone(sagemaker: Any, name: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            sagemaker.describe_project(ProjectName=name)
        except ClientError as error:
            assert error_of_client(error) == "ValidationException"
            return
        assert time.monotonic() < deadline
        time.sleep(0.1)


def error_of_client(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


def provider(url: str, **parameters: str) -> dict[str, Any]:
    cfn: dict[str, Any] = {"TemplateName": "hosting", "TemplateURL": url}
    if parameters:
        cfn["Parameters"] = [{"Key": k, "Value": v} for k, v in parameters.items()]
    return {"CfnTemplateProvider": cfn}


def stack_of(project: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = project["TemplateProviderDetails"][0]["CfnTemplateProviderDetail"]
    return detail


def test_a_template_provisions_updates_and_deletes_a_serving_endpoint(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, s3, runtime = clients
    first, first_artifact = linear_artifact(2.0)
    second, second_artifact = linear_artifact(-5.0)
    s3.put_object(Bucket="bkt", Key="models/a.tar.gz", Body=first_artifact)
    s3.put_object(Bucket="bkt", Key="models/b.tar.gz", Body=second_artifact)
    s3.put_object(Bucket="bkt", Key="templates/hosting.yaml", Body=hosting_template())
    created = sagemaker.create_project(
        ProjectName="serving",
        ProjectDescription="serves a linear model",
        Tags=[{"Key": "team", "Value": "ml"}],
        TemplateProviders=[
            provider(
                "https://bkt.s3.us-east-1.amazonaws.com/templates/hosting.yaml",
                ArtifactKey="models/a.tar.gz",
                EndpointName="project-endpoint",
            )
        ],
    )
    assert created["ProjectId"].startswith("p-")
    assert created["ProjectArn"].endswith(":project/serving")
    project = wait_project(sagemaker, "serving", "CreateCompleted", "CreateFailed")
    stack = stack_of(project)
    assert project["ProjectStatus"] == "CreateCompleted", stack["StackDetail"]
    assert stack["StackDetail"]["StatusMessage"] == "CREATE_COMPLETE"
    assert stack["StackDetail"]["Id"].startswith("arn:aws:cloudformation:us-east-1:")
    assert project["CreatedBy"]["IamIdentity"]["Arn"].startswith("arn:aws:iam::")
    endpoint = sagemaker.describe_endpoint(EndpointName="project-endpoint")
    assert endpoint["EndpointStatus"] == "InService"
    tags = {
        t["Key"]: t["Value"]
        for t in sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
    }
    assert tags["sagemaker:project-name"] == "serving"
    assert tags["sagemaker:project-id"] == created["ProjectId"]
    assert tags["team"] == "ml" and tags["stack"] == stack["StackDetail"]["Name"]
    first_config = endpoint["EndpointConfigName"]
    by_project = {"Name": "Tags.sagemaker:project-name", "Operator": "Equals", "Value": "serving"}
    found = sagemaker.search(Resource="Endpoint", SearchExpression={"Filters": [by_project]})
    assert [r["Endpoint"]["EndpointName"] for r in found["Results"]] == ["project-endpoint"]
    [record] = sagemaker.search(Resource="Project")["Results"]
    assert stack_of(record["Project"])["StackDetail"] == stack["StackDetail"]
    values, _ = predict_csv(runtime, "project-endpoint", "0.5,0.5\n")
    assert np.allclose(values, first.predict(np.array([[0.5, 0.5]])))

    # A changed template and parameters: the model and config are replaced, the endpoint is
    # updated in place and keeps serving, now the second model.
    s3.put_object(
        Bucket="bkt",
        Key="templates/hosting-v2.yaml",
        Body=hosting_template(
            "  Group:\n    Type: AWS::SageMaker::Model\n    Condition: IsProd\n"
            "    Properties: {PrimaryContainer: {Image: x}}\n"
        ),
    )
    sagemaker.update_project(
        ProjectName="serving",
        TemplateProvidersToUpdate=[
            provider(
                "https://s3.amazonaws.com/bkt/templates/hosting-v2.yaml",
                ArtifactKey="models/b.tar.gz",
                EndpointName="project-endpoint",
            )
        ],
    )
    project = wait_project(sagemaker, "serving", "UpdateCompleted", "UpdateFailed")
    assert project["ProjectStatus"] == "UpdateCompleted", stack_of(project)["StackDetail"]
    assert stack_of(project)["TemplateURL"].endswith("hosting-v2.yaml")
    endpoint = sagemaker.describe_endpoint(EndpointName="project-endpoint")
    assert endpoint["EndpointStatus"] == "InService"
    assert endpoint["EndpointConfigName"] != first_config
    values, _ = predict_csv(runtime, "project-endpoint", "0.5,0.5\n")
    assert np.allclose(values, second.predict(np.array([[0.5, 0.5]])))
    with pytest.raises(ClientError):  # cleanup removed what was replaced
        sagemaker.describe_endpoint_config(EndpointConfigName=first_config)
    assert len(sagemaker.list_models()["Models"]) == 1

    sagemaker.delete_project(ProjectName="serving")
    wait_gone(sagemaker, "serving")
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []


def test_a_project_provisions_a_model_package_group(clients: tuple[Any, Any, Any]) -> None:
    """Needs CreateModelPackageGroup (the model registry's API)."""
    sagemaker, s3, _ = clients
    template = {
        "Parameters": {"GroupName": {"Type": "String"}},
        "Resources": {
            "Group": {
                "Type": "AWS::SageMaker::ModelPackageGroup",
                "Properties": {
                    "ModelPackageGroupName": {"Ref": "GroupName"},
                    "ModelPackageGroupDescription": {"Fn::Sub": "models of ${AWS::StackName}"},
                },
            }
        },
    }
    s3.put_object(Bucket="bkt", Key="t/group.json", Body=json.dumps(template).encode())
    sagemaker.create_project(
        ProjectName="registry",
        TemplateProviders=[provider("https://bkt.s3.amazonaws.com/t/group.json", GroupName="g1")],
    )
    project = wait_project(sagemaker, "registry", "CreateCompleted", "CreateFailed")
    message = stack_of(project)["StackDetail"]["StatusMessage"]
    assert project["ProjectStatus"] == "CreateCompleted", message
    group = sagemaker.describe_model_package_group(ModelPackageGroupName="g1")
    assert group["ModelPackageGroupDescription"].startswith("models of sagemaker-registry-")
    sagemaker.delete_project(ProjectName="registry")
    wait_gone(sagemaker, "registry")
    with pytest.raises(ClientError):
        sagemaker.describe_model_package_group(ModelPackageGroupName="g1")


def test_failures_roll_back_and_name_the_cause(clients: tuple[Any, Any, Any]) -> None:
    sagemaker, s3, _ = clients
    cases = {
        "unknown": ({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}, "AWS::SQS::Queue"),
        "params": (
            {
                "Parameters": {"Needed": {"Type": "String"}},
                "Resources": {"M": {"Type": "AWS::SageMaker::Model", "Properties": {}}},
            },
            "Parameters: [Needed] must have values",
        ),
        "midway": (
            {
                "Resources": {
                    "M": {
                        "Type": "AWS::SageMaker::Model",
                        "Properties": {"PrimaryContainer": {"Image": SKLEARN}},
                    },
                    "C": {
                        "Type": "AWS::SageMaker::EndpointConfig",
                        "DependsOn": "M",
                        "Properties": {
                            "ProductionVariants": [
                                {
                                    "VariantName": "v",
                                    "ModelName": "missing",
                                    "InstanceType": "ml.m5.large",
                                    "InitialInstanceCount": 1,
                                }
                            ]
                        },
                    },
                }
            },
            "The following resource(s) failed to create: [C]",
        ),
    }
    for name, (template, _) in cases.items():
        s3.put_object(Bucket="bkt", Key=f"t/{name}.json", Body=json.dumps(template).encode())
        sagemaker.create_project(
            ProjectName=name,
            TemplateProviders=[provider(f"https://bkt.s3.amazonaws.com/t/{name}.json")],
        )
    sagemaker.create_project(
        ProjectName="absent",
        TemplateProviders=[provider("https://bkt.s3.amazonaws.com/t/none.json")],
    )
    for name, (_, expected) in cases.items():
        project = wait_project(sagemaker, name, "CreateCompleted", "CreateFailed")
        assert project["ProjectStatus"] == "CreateFailed"
        assert expected in stack_of(project)["StackDetail"]["StatusMessage"]
    absent = wait_project(sagemaker, "absent", "CreateCompleted", "CreateFailed")
    assert "valid S3 object" in stack_of(absent)["StackDetail"]["StatusMessage"]
    assert sagemaker.list_models()["Models"] == []  # the midway model was rolled back
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_project(
            ProjectName="midway",
            TemplateProvidersToUpdate=[provider("https://bkt.s3.amazonaws.com/t/midway.json")],
        )
    assert error_of(excinfo)[0] == "ConflictException"
    sagemaker.delete_project(ProjectName="midway")
    wait_gone(sagemaker, "midway")


def test_requests_checked_as_sagemaker_checks_them(
    clients: tuple[Any, Any, Any],
) -> None:
    sagemaker, _, _ = clients
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_project(
            ProjectName="sc",
            ServiceCatalogProvisioningDetails={"ProductId": "prod-1"},
        )
    code, message, _ = error_of(excinfo)
    assert code == "ValidationException" and "TemplateProviders" in message
    with pytest.raises(ClientError) as excinfo:
        sagemaker.create_project(
            ProjectName="bad-url", TemplateProviders=[provider("s3://bkt/t.yaml")]
        )
    assert error_of(excinfo)[0] == "ValidationException"  # the model's https:// pattern
    with pytest.raises(ClientError) as excinfo:
        sagemaker.describe_project(ProjectName="nope")
    assert error_of(excinfo)[0] == "ValidationException"
    for index in range(3):
        sagemaker.create_project(ProjectName=f"empty-{index}", ProjectDescription="no templates")
    page = sagemaker.list_projects(MaxResults=2, SortBy="Name", SortOrder="Ascending")
    assert [p["ProjectName"] for p in page["ProjectSummaryList"]] == ["empty-0", "empty-1"]
    rest = sagemaker.list_projects(
        MaxResults=2, SortBy="Name", SortOrder="Ascending", NextToken=page["NextToken"]
    )
    assert [p["ProjectName"] for p in rest["ProjectSummaryList"]] == ["empty-2"]
    assert wait_project(sagemaker, "empty-0", "CreateCompleted")["ProjectDescription"]
    sagemaker.update_project(ProjectName="empty-0", ProjectDescription="changed")
    assert sagemaker.describe_project(ProjectName="empty-0")["ProjectDescription"] == "changed"
    with pytest.raises(ClientError) as excinfo:
        sagemaker.update_project(
            ProjectName="empty-0",
            TemplateProvidersToUpdate=[provider("https://bkt.s3.amazonaws.com/t.yaml")],
        )
    assert error_of(excinfo)[0] == "ValidationException"
