"""The CloudFormation engine's pure parts: templates, intrinsics, parameters, conditions, order;
and the stack operations against a recording fake of the API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from sagestack.control.cloudformation.intrinsics import Context, evaluate, references
from sagestack.control.cloudformation.plan import make_plan, pseudo_parameters
from sagestack.control.cloudformation.stacks import StackFailure, StackOperations
from sagestack.control.cloudformation.template import TemplateError, parse_template
from sagestack.control.cloudformation.types import TYPES
from sagestack.resources.projects import OperationFailed, Principal, template_location

PSEUDO = pseudo_parameters(
    region="eu-west-1", account="123456789012", stack_name="st", stack_id="arn:stack"
)

YAML = """
AWSTemplateFormatVersion: 2010-09-09
Parameters:
  Env: {Type: String, Default: dev, AllowedValues: [dev, prod]}
  Sizes: {Type: CommaDelimitedList, Default: "a, b,c"}
  Count: {Type: Number, Default: 2, MinValue: 1}
Conditions:
  Prod: !Equals [!Ref Env, prod]
  NotProd: !Not [!Condition Prod]
  Either: !Or [!Condition Prod, !Equals [x, x]]
  Both: !And [!Condition Prod, !Condition NotProd]
Resources:
  B:
    Type: AWS::SageMaker::EndpointConfig
    Properties:
      Name: !Sub "${A.ModelName}-${AWS::Region}-${!Literal}"
      Pick: !Select [1, !Ref Sizes]
      Parts: !Split [",", "x,y"]
      Joined: !Join ["-", [!Ref Env, !Ref "AWS::AccountId"]]
      Maybe: !If [Prod, big, !Ref "AWS::NoValue"]
      Sub2: !Sub ["${Who}@${AWS::StackName}", {Who: !Ref Env}]
  A:
    Type: AWS::SageMaker::Model
    Properties:
      Arn: !GetAtt [Other, ModelName]
  Other:
    Type: AWS::SageMaker::Model
    Condition: NotProd
  Skipped:
    Type: AWS::SageMaker::Model
    Condition: Prod
    DependsOn: [A]
"""


def test_yaml_short_forms_become_long_forms_and_dates_stay_text() -> None:
    template = parse_template(YAML)
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    properties = template["Resources"]["B"]["Properties"]
    assert properties["Name"] == {"Fn::Sub": "${A.ModelName}-${AWS::Region}-${!Literal}"}
    assert template["Resources"]["A"]["Properties"]["Arn"] == {"Fn::GetAtt": ["Other", "ModelName"]}
    assert template["Conditions"]["NotProd"] == {"Fn::Not": [{"Condition": "Prod"}]}
    assert parse_template('{"Resources": {"X": {"Type": "T"}}}')["Resources"]["X"]["Type"] == "T"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources: {}", "At least one Resources member"),
        ("Resources: {X: {Properties: {}}}", "must contain a Type member"),
        ("[1, 2]", "not a JSON or YAML object"),
        ("{bad json", "Template format error"),
        ("Resources: {X: {Type: T, P: !Nope x}}", "unknown tag !Nope"),
    ],
)
def test_bad_templates(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template(text)


def test_plan_orders_by_dependency_and_evaluates_intrinsics() -> None:
    plan = make_plan(parse_template(YAML), {}, PSEUDO, TYPES | {"T": None})
    assert plan.order == ["Other", "A", "B"]  # Skipped's condition is false
    assert plan.conditions == {"Prod": False, "NotProd": True, "Either": True, "Both": False}
    assert plan.parameters["Sizes"] == ["a", "b", "c"]
    ctx = plan.context(
        ref=lambda name: f"arn:{name}", get_att=lambda name, attribute: f"{name}.{attribute}"
    )
    evaluated = evaluate(plan.resource("B")["Properties"], ctx)
    assert evaluated == {
        "Name": "A.ModelName-eu-west-1-${Literal}",
        "Pick": "b",
        "Parts": ["x", "y"],
        "Joined": "dev-123456789012",
        "Sub2": "dev@st",
    }
    prod = make_plan(parse_template(YAML), {"Env": "prod"}, PSEUDO, TYPES)
    assert prod.order == ["A", "B", "Skipped"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"Env": "qa"}, "Parameter 'Env' must be one of AllowedValues"),
        ({"Count": "zero"}, "Parameter 'Count' must be a number."),
        ({"Count": "0"}, "must be a number not less than 1"),
        ({"Nope": "1"}, r"Parameters: \[Nope\] do not exist in the template"),
    ],
)
def test_parameter_values_are_checked(given: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        make_plan(parse_template(YAML), given, PSEUDO, TYPES)


def test_plan_failures_name_what_is_wrong() -> None:
    cycle = {
        "Resources": {"A": {"Type": "T", "DependsOn": "B"}, "B": {"Type": "T", "DependsOn": "A"}}
    }
    with pytest.raises(TemplateError, match=r"Circular dependency between resources: \[A, B\]"):
        make_plan(cycle, {}, PSEUDO, {"T"})
    with pytest.raises(TemplateError, match=r"Unrecognized resource types: \[AWS::S3::Bucket\]"):
        make_plan({"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}, {}, PSEUDO, TYPES)
    dangling = {"Resources": {"A": {"Type": "T", "Properties": {"X": {"Ref": "Ghost"}}}}}
    with pytest.raises(TemplateError, match=r"Unresolved resource dependencies \[Ghost\]"):
        make_plan(dangling, {}, PSEUDO, {"T"})
    missing = {"Parameters": {"P": {"Type": "String"}}, "Resources": {"A": {"Type": "T"}}}
    with pytest.raises(TemplateError, match=r"Parameters: \[P\] must have values"):
        make_plan(missing, {}, PSEUDO, {"T"})


def test_references_and_find_in_map() -> None:
    value = {"A": [{"Ref": "X"}, {"Fn::GetAtt": "Y.Arn"}, {"Fn::Sub": "${Z.Name}${W}${!Q}"}]}
    assert references(value) == {"X", "Y", "Z", "W"}
    ctx = Context(parameters={"R": "eu"}, mappings={"M": {"eu": {"size": 3}}})
    assert evaluate({"Fn::FindInMap": ["M", {"Ref": "R"}, "size"]}, ctx) == 3
    assert evaluate({"Fn::Base64": "hi"}, ctx) == "aGk="


@pytest.mark.parametrize(
    ("url", "location"),
    [
        ("s3://bkt/a/b.yaml", ("bkt", "a/b.yaml")),
        ("https://bkt.s3.amazonaws.com/a/b.yaml", ("bkt", "a/b.yaml")),
        ("https://bkt.s3.us-east-1.amazonaws.com/a%20b.yaml", ("bkt", "a b.yaml")),
        ("https://bkt.s3-us-west-2.amazonaws.com/k", ("bkt", "k")),
        ("https://s3.us-east-1.amazonaws.com/bkt/k", ("bkt", "k")),
        ("https://localhost:4566/bkt/k", ("bkt", "k")),
    ],
)
def test_template_urls(url: str, location: tuple[str, str]) -> None:
    assert template_location(url) == location


def test_template_url_without_an_object() -> None:
    with pytest.raises(ValueError, match="not the URL of an S3 object"):
        template_location("https://bkt.s3.amazonaws.com/")


class FakeApi:
    """Records operations; CreateEndpointConfig fails when told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_on: str | None = None

    def __call__(
        self, name: str, params: Mapping[str, Any], principal: Principal
    ) -> dict[str, Any]:
        self.calls.append((name, dict(params)))
        if name == self.fail_on:
            raise OperationFailed("ValidationException", "no")
        if name.startswith("Create"):
            kind = name.removeprefix("Create")
            return {f"{kind}Arn": f"arn:{kind}/{params.get(kind + 'Name', '?')}"}
        if name.startswith("Describe"):
            return {"EndpointStatus": "InService"}
        return {}


TWO = {
    "Resources": {
        "M": {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {"Image": "i"}}},
        "C": {
            "Type": "AWS::SageMaker::EndpointConfig",
            "Properties": {"ProductionVariants": [{"ModelName": {"Fn::GetAtt": "M.ModelName"}}]},
        },
    }
}


def operations(api: FakeApi) -> StackOperations:
    tags = [{"Key": "sagemaker:project-name", "Value": "p"}]
    return StackOperations(api, Principal("1", "r"), tags)


def test_create_then_roll_back_on_failure() -> None:
    api = FakeApi()
    plan = make_plan(TWO, {}, PSEUDO, TYPES)
    resources = operations(api).create(plan)
    assert list(resources) == ["M", "C"]
    model_name = resources["M"]["PhysicalId"]
    assert model_name.startswith("M-") and len(model_name) == 14
    create_config = api.calls[1][1]
    assert create_config["ProductionVariants"][0]["ModelName"] == model_name
    assert create_config["Tags"] == [{"Key": "sagemaker:project-name", "Value": "p"}]
    api = FakeApi()
    api.fail_on = "CreateEndpointConfig"
    with pytest.raises(StackFailure) as failure:
        operations(api).create(plan)
    assert failure.value.resources == {}
    assert "ROLLBACK_COMPLETE" in failure.value.message
    assert [name for name, _ in api.calls] == ["CreateModel", "CreateEndpointConfig", "DeleteModel"]


def test_update_replaces_changed_resources_and_cleans_up() -> None:
    api = FakeApi()
    ops = operations(api)
    before = ops.create(make_plan(TWO, {}, PSEUDO, TYPES))
    changed = {"Resources": dict(TWO["Resources"])}
    changed["Resources"]["M"] = {
        "Type": "AWS::SageMaker::Model",
        "Properties": {"PrimaryContainer": {"Image": "j"}},
    }
    api.calls.clear()
    after = ops.update(make_plan(changed, {}, PSEUDO, TYPES), before)
    assert after["M"]["PhysicalId"] != before["M"]["PhysicalId"]
    names = [name for name, _ in api.calls]
    assert names == ["CreateModel", "CreateEndpointConfig", "DeleteEndpointConfig", "DeleteModel"]
    api.calls.clear()
    ops.delete(after)
    assert [name for name, _ in api.calls] == ["DeleteEndpointConfig", "DeleteModel"]
