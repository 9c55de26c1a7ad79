"""Search and GetSearchSuggestions through boto3 against a live server."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.api.test_models import error_of

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def make_models(sagemaker: Any) -> float:
    """Five models; returns a time between the second and the third."""
    middle = 0.0
    for index, (team, image) in enumerate(
        [("red", "img-a"), ("blue", "img-b"), ("red", "img-c"), (None, "img-a"), ("blue", "img-b")]
    ):
        tags = [{"Key": "team", "Value": team}] if team else []
        sagemaker.create_model(
            ModelName=f"model-{index}",
            ExecutionRoleArn=ROLE,
            Containers=[
                {"Image": image, "ContainerHostname": "first"},
                {"Image": "img-z", "ContainerHostname": "second"},
            ],
            Tags=tags,
        )
        if index == 1:
            time.sleep(0.05)
            middle = time.time()
            time.sleep(0.05)
    return middle


def names(result: dict[str, Any]) -> list[str]:
    return sorted(r["Model"]["Model"]["ModelName"] for r in result["Results"])


def search(sagemaker: Any, *filters: dict[str, Any], **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = sagemaker.search(
        Resource="Model", SearchExpression={"Filters": list(filters)}, MaxResults=100, **extra
    )
    return result


def test_filters_on_properties_and_tags(sagemaker: Any) -> None:
    middle = make_models(sagemaker)
    name = "Model.ModelName"
    assert names(search(sagemaker, {"Name": name, "Operator": "Equals", "Value": "model-1"})) == [
        "model-1"
    ]
    assert names(search(sagemaker, {"Name": name, "Value": "model-1"})) == ["model-1"]
    assert (
        len(names(search(sagemaker, {"Name": name, "Operator": "NotEquals", "Value": "model-1"})))
        == 4
    )
    assert names(search(sagemaker, {"Name": name, "Operator": "Contains", "Value": "l-4"})) == [
        "model-4"
    ]
    assert names(
        search(sagemaker, {"Name": name, "Operator": "In", "Value": "model-0,model-3"})
    ) == [
        "model-0",
        "model-3",
    ]
    red = search(sagemaker, {"Name": "Model.Tags.team", "Operator": "Equals", "Value": "red"})
    assert names(red) == ["model-0", "model-2"]
    assert red["Results"][0]["Model"]["Model"]["Tags"] == [{"Key": "team", "Value": "red"}]
    assert names(search(sagemaker, {"Name": "Model.Tags.team", "Operator": "NotExists"})) == [
        "model-3"
    ]
    assert len(names(search(sagemaker, {"Name": "Model.Tags.team", "Operator": "Exists"}))) == 4
    after = datetime.fromtimestamp(middle, UTC).isoformat()
    later = search(
        sagemaker, {"Name": "Model.CreationTime", "Operator": "GreaterThan", "Value": after}
    )
    assert names(later) == ["model-2", "model-3", "model-4"]
    earlier = search(
        sagemaker,
        {"Name": "Model.CreationTime", "Operator": "LessThanOrEqualTo", "Value": str(middle)},
    )
    assert names(earlier) == ["model-0", "model-1"]
    images = search(sagemaker, {"Name": "Model.Containers.Image", "Value": "img-b"})
    assert names(images) == ["model-1", "model-4"]


def test_nested_filters_and_subexpressions(sagemaker: Any) -> None:
    make_models(sagemaker)
    same_container = sagemaker.search(
        Resource="Model",
        SearchExpression={
            "NestedFilters": [
                {
                    "NestedPropertyName": "Model.Containers",
                    "Filters": [
                        {"Name": "Model.Containers.ContainerHostname", "Value": "first"},
                        {"Name": "Model.Containers.Image", "Value": "img-z"},
                    ],
                }
            ]
        },
    )
    assert same_container["Results"] == []  # img-z is only ever the second container
    either = sagemaker.search(
        Resource="Model",
        SearchExpression={
            "SubExpressions": [
                {"Filters": [{"Name": "Model.Tags.team", "Value": "blue"}]},
                {"Filters": [{"Name": "Model.ModelName", "Value": "model-0"}]},
            ],
            "Operator": "Or",
        },
    )
    assert names(either) == ["model-0", "model-1", "model-4"]
    both = sagemaker.search(
        Resource="Model",
        SearchExpression={
            "Filters": [{"Name": "Model.Tags.team", "Value": "blue"}],
            "SubExpressions": [{"Filters": [{"Name": "Model.ModelName", "Value": "model-4"}]}],
        },
    )
    assert names(both) == ["model-4"]


def test_sorting_and_paging(sagemaker: Any) -> None:
    make_models(sagemaker)
    seen: list[str] = []
    token = None
    while True:
        extra = {"NextToken": token} if token else {}
        page = sagemaker.search(
            Resource="Model", SortBy="Model.ModelName", SortOrder="Ascending", MaxResults=2, **extra
        )
        assert page["TotalHits"] == {"Value": 5, "Relation": "EqualTo"}
        seen += [r["Model"]["Model"]["ModelName"] for r in page["Results"]]
        token = page.get("NextToken")
        if token is None:
            break
    assert seen == [f"model-{i}" for i in range(5)]
    newest = sagemaker.search(Resource="Model", MaxResults=1)["Results"][0]
    assert newest["Model"]["Model"]["ModelName"] == "model-4"  # default: newest first
    with pytest.raises(ClientError) as excinfo:
        sagemaker.search(Resource="Model", NextToken=token or "forged", SortBy="Model.ModelName")
    assert error_of(excinfo)[0] == "ValidationException"
    paginator = sagemaker.get_paginator("search")
    pages = list(paginator.paginate(Resource="Model", PaginationConfig={"PageSize": 2}))
    assert sum(len(p["Results"]) for p in pages) == 5


def test_projects_and_other_resource_types(sagemaker: Any) -> None:
    sagemaker.create_project(ProjectName="alpha", ProjectDescription="first")
    sagemaker.create_project(ProjectName="beta", Tags=[{"Key": "k", "Value": "v"}])
    found = sagemaker.search(
        Resource="Project",
        SearchExpression={"Filters": [{"Name": "Tags.k", "Operator": "Equals", "Value": "v"}]},
    )
    [record] = found["Results"]
    assert record["Project"]["ProjectName"] == "beta"
    assert record["Project"]["ProjectId"].startswith("p-")
    assert sagemaker.search(Resource="Experiment")["Results"] == []
    suggestions = sagemaker.get_search_suggestions(
        Resource="Project", SuggestionQuery={"PropertyNameQuery": {"PropertyNameHint": "Proj"}}
    )["PropertyNameSuggestions"]
    assert {"PropertyName": "ProjectName"} in suggestions
    assert all(s["PropertyName"].startswith("Proj") for s in suggestions)


def test_bad_expressions(sagemaker: Any) -> None:
    cases = [
        ({}, "at least one"),
        (
            {
                "Filters": [
                    {"Name": "ProjectName", "Operator": "Contains", "Value": "a"},
                    {"Name": "ProjectDescription", "Operator": "Contains", "Value": "b"},
                ]
            },
            "'CONTAINS' operator usage limit of 1 exceeded.",
        ),
        ({"Filters": [{"Name": "ProjectName", "Operator": "Equals"}]}, "needs a Value"),
        (
            {"Filters": [{"Name": "CreationTime", "Operator": "GreaterThan", "Value": "soon"}]},
            "numeric or date",
        ),
    ]
    sagemaker.create_project(ProjectName="one")
    for expression, message in cases:
        with pytest.raises(ClientError) as excinfo:
            sagemaker.search(Resource="Project", SearchExpression=expression)
        code, text, _ = error_of(excinfo)
        assert code == "ValidationException" and message in text


def test_model_packages_by_approval_and_groups(sagemaker: Any) -> None:
    sagemaker.create_model_package_group(ModelPackageGroupName="churn")
    spec = {
        "Containers": [{"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:1"}],
        "SupportedContentTypes": ["text/csv"],
        "SupportedResponseMIMETypes": ["text/csv"],
    }
    for status in ("Approved", "Rejected", "Approved"):
        sagemaker.create_model_package(
            ModelPackageGroupName="churn", InferenceSpecification=spec, ModelApprovalStatus=status
        )
    approved = sagemaker.search(
        Resource="ModelPackage",
        SearchExpression={
            "Filters": [{"Name": "ModelApprovalStatus", "Operator": "Equals", "Value": "Approved"}]
        },
        SortBy="ModelPackageVersion",
        SortOrder="Ascending",
    )["Results"]
    assert [r["ModelPackage"]["ModelPackageVersion"] for r in approved] == [1, 3]
    assert approved[0]["ModelPackage"]["ModelPackageGroupName"] == "churn"
    groups = sagemaker.search(Resource="ModelPackageGroup")["Results"]
    assert [g["ModelPackageGroup"]["ModelPackageGroupName"] for g in groups] == ["churn"]
