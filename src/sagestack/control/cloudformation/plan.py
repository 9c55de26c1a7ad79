"""What a template means for one stack: its parameter values, its conditions, the resources
that exist under them and the order they are created in (dependencies first).

CloudFormation checks all of this before it touches a resource, so a bad parameter, an
unknown type or a dependency cycle fails the stack with nothing created; `make_plan` does the
same. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from typing import Any

from sagestack.control.cloudformation.intrinsics import Context, evaluate, references
from sagestack.control.cloudformation.template import TemplateError


def pseudo_parameters(
    *, region: str, account: str, stack_name: str, stack_id: str, partition: str = "aws"
) -> dict[str, Any]:
    """AWS's pseudo parameters for a stack (AWS::NoValue is handled by Ref itself)."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


@dataclass(frozen=True, slots=True)
class Plan:
    template: Mapping[str, Any]
    #: Parameter values (lists for the list types) and the pseudo parameters.
    parameters: Mapping[str, Any]
    conditions: Mapping[str, bool]
    #: Logical ids of the resources that exist (their Condition holds), dependencies first.
    order: list[str]
    #: Logical id → the logical ids of the resources it needs.
    dependencies: Mapping[str, frozenset[str]]

    def resource(self, logical_id: str) -> Mapping[str, Any]:
        resource: Mapping[str, Any] = self.template["Resources"][logical_id]
        return resource

    def context(self, ref: Callable[[str], Any], get_att: Callable[[str, str], Any]) -> Context:
        return Context(
            parameters=self.parameters,
            condition=lambda name: _named(self.conditions, name),
            ref=ref,
            get_att=get_att,
            mappings=self.template.get("Mappings", {}),
        )


def _named(conditions: Mapping[str, bool], name: str) -> bool:
    if name not in conditions:
        raise TemplateError(f"Template format error: Unresolved condition dependency {name}")
    return conditions[name]


def make_plan(
    template: Mapping[str, Any],
    given: Mapping[str, str | None],
    pseudo: Mapping[str, Any],
    known_types: Container[str],
) -> Plan:
    """The plan of `template` with the parameter values `given`; TemplateError with
    CloudFormation's wording when the template or the values cannot be used."""
    parameters = {**_parameter_values(template.get("Parameters", {}), given), **pseudo}
    conditions = _conditions(template, parameters)
    resources: Mapping[str, Mapping[str, Any]] = template["Resources"]
    unknown = sorted({r["Type"] for r in resources.values() if r["Type"] not in known_types})
    if unknown:
        raise TemplateError(
            f"Template format error: Unrecognized resource types: [{', '.join(unknown)}] "
            "(sagestack does not provide these resource types)"
        )
    present = []
    for logical_id, resource in resources.items():
        condition = resource.get("Condition")
        if condition is None or _named(conditions, condition):
            present.append(logical_id)
    dependencies = {
        logical_id: _dependencies(logical_id, resources, parameters) for logical_id in present
    }
    return Plan(template, parameters, conditions, _ordered(present, dependencies), dependencies)


def _parameter_values(
    declared: Mapping[str, Mapping[str, Any]], given: Mapping[str, str | None]
) -> dict[str, Any]:
    undeclared = sorted(set(given) - set(declared))
    if undeclared:
        raise TemplateError(f"Parameters: [{', '.join(undeclared)}] do not exist in the template")
    values: dict[str, Any] = {}
    missing = []
    for name, declaration in declared.items():
        if not isinstance(declaration, dict) or "Type" not in declaration:
            raise TemplateError(
                f"Template format error: Every Parameters object must contain a Type member "
                f"({name})."
            )
        value = given.get(name)
        if value is None:
            value = declaration.get("Default")
        if value is None:
            missing.append(name)
            continue
        values[name] = _checked(name, _scalar(value), declaration)
    if missing:
        raise TemplateError(f"Parameters: [{', '.join(missing)}] must have values")
    return values


def _scalar(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _checked(name: str, value: str, declaration: Mapping[str, Any]) -> Any:
    """The value of parameter `name` after its Type and constraints (CloudFormation's
    messages); lists for the list types."""
    kind = str(declaration["Type"])
    is_list = kind.startswith("List<") or kind == "CommaDelimitedList"
    items = [item.strip() if is_list else item for item in value.split(",")] if is_list else [value]
    described = declaration.get("ConstraintDescription")
    for item in items:
        if kind in ("Number", "List<Number>"):
            try:
                number = float(item)
            except ValueError:
                raise TemplateError(f"Parameter '{name}' must be a number.") from None
            low, high = declaration.get("MinValue"), declaration.get("MaxValue")
            if low is not None and number < float(low):
                raise TemplateError(
                    described or f"Parameter '{name}' must be a number not less than {low}"
                )
            if high is not None and number > float(high):
                raise TemplateError(
                    described or f"Parameter '{name}' must be a number not greater than {high}"
                )
        allowed = declaration.get("AllowedValues")
        if allowed is not None and item not in [_scalar(a) for a in allowed]:
            raise TemplateError(described or f"Parameter '{name}' must be one of AllowedValues")
        pattern = declaration.get("AllowedPattern")
        if pattern is not None and re.fullmatch(str(pattern), item) is None:
            raise TemplateError(described or f"Parameter '{name}' must match pattern {pattern}")
        shortest, longest = declaration.get("MinLength"), declaration.get("MaxLength")
        if shortest is not None and len(item) < int(shortest):
            raise TemplateError(
                described or f"Parameter '{name}' must contain at least {shortest} characters"
            )
        if longest is not None and len(item) > int(longest):
            raise TemplateError(
                described or f"Parameter '{name}' must contain at most {longest} characters"
            )
    return items if is_list else value


def _conditions(template: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, bool]:
    declared: Mapping[str, Any] = template.get("Conditions", {})
    results: dict[str, bool] = {}
    pending: list[str] = []

    def condition(name: str) -> bool:
        if name in results:
            return results[name]
        if name not in declared:
            raise TemplateError(f"Template format error: Unresolved condition dependency {name}")
        if name in pending:
            raise TemplateError(
                f"Template format error: Circular dependency between conditions: "
                f"[{', '.join(pending[pending.index(name) :])}]"
            )
        pending.append(name)
        value = evaluate(
            declared[name],
            Context(parameters, condition, mappings=template.get("Mappings", {})),
        )
        pending.pop()
        if not isinstance(value, bool):
            raise TemplateError(f"Template error: condition {name} must evaluate to true or false")
        results[name] = value
        return value

    for name in declared:
        condition(name)
    return results


def _dependencies(
    logical_id: str, resources: Mapping[str, Mapping[str, Any]], parameters: Mapping[str, Any]
) -> frozenset[str]:
    resource = resources[logical_id]
    depends_on = resource.get("DependsOn", [])
    explicit = {depends_on} if isinstance(depends_on, str) else set(depends_on)
    named = references(resource.get("Properties", {})) | explicit
    unresolved = sorted(n for n in named if n not in resources and n not in parameters)
    unresolved = [n for n in unresolved if n != "AWS::NoValue"]
    if unresolved:
        raise TemplateError(
            f"Template format error: Unresolved resource dependencies [{', '.join(unresolved)}] "
            "in the Resources block of the template"
        )
    if logical_id in named:
        raise TemplateError(f"Circular dependency between resources: [{logical_id}]")
    return frozenset(n for n in named if n in resources)


def _ordered(present: list[str], dependencies: Mapping[str, frozenset[str]]) -> list[str]:
    """`present` in dependency order, keeping template order among independent resources;
    TemplateError naming the resources of a cycle."""
    order: list[str] = []
    done: set[str] = set()
    remaining = list(present)
    while remaining:
        ready = [r for r in remaining if dependencies[r] & set(present) <= done]
        if not ready:
            raise TemplateError(
                f"Circular dependency between resources: [{', '.join(sorted(remaining))}]"
            )
        for logical_id in ready:
            order.append(logical_id)
            done.add(logical_id)
        remaining = [r for r in remaining if r not in done]
    return order
