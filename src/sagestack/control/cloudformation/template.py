"""Reading a CloudFormation template: JSON, or YAML with the short-form intrinsic tags.

CloudFormation's YAML differs from plain YAML in two ways that matter here: `!Ref x`,
`!GetAtt a.b`, `!Sub ...` and the other short forms stand for their long `{"Fn::...": ...}`
forms, and dates are not dates (`AWSTemplateFormatVersion: 2010-09-09` stays a string), so
the loader below drops YAML's implicit timestamp type.
"""

from __future__ import annotations

import json
from typing import Any

import yaml


class TemplateError(ValueError):
    """The template cannot be used; the message is CloudFormation's wording where it has one."""


#: Short-form tag → its long form's key (`!Ref` and `!Condition` have no `Fn::` prefix).
_SHORT_FORMS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Sub",
            "GetAtt",
            "Join",
            "Select",
            "Split",
            "If",
            "Equals",
            "Not",
            "And",
            "Or",
            "FindInMap",
            "Base64",
            "GetAZs",
            "ImportValue",
            "Cidr",
            "Length",
            "ToJsonString",
        )
    },
}


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader with CloudFormation's tags and without implicit timestamps."""


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _construct_short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    key = _SHORT_FORMS.get(suffix)
    if key is None:
        raise TemplateError(f"Template format error: unknown tag !{suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            resource, _, attribute = str(value).partition(".")
            value = [resource, attribute]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {key: value}


_TemplateLoader.add_multi_constructor("!", _construct_short_form)


def parse_template(text: str) -> dict[str, Any]:
    """The template as a dict; JSON when it starts with `{`, else YAML.

    TemplateError for text that is neither, or is not a template (no Resources mapping).
    """
    try:
        if text.lstrip().startswith("{"):
            document = json.loads(text)
        else:
            document = yaml.load(text, Loader=_TemplateLoader)  # a SafeLoader
    except TemplateError:
        raise
    except (ValueError, yaml.YAMLError) as error:
        raise TemplateError(f"Template format error: {_first_line(error)}") from None
    if not isinstance(document, dict):
        raise TemplateError("Template format error: the template is not a JSON or YAML object")
    resources = document.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError("Template format error: At least one Resources member must be defined.")
    for section in ("Parameters", "Conditions", "Mappings", "Outputs"):
        if section in document and not isinstance(document[section], dict):
            raise TemplateError(f"Template format error: {section} must be an object")
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(
                f"Template format error: [/Resources/{logical_id}] Every Resources object "
                "must contain a Type member."
            )
    return document


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
