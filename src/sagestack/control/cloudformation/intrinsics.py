"""CloudFormation's intrinsic functions, evaluated over a context; and the references a value
makes, which give the resources their dependency order.

`evaluate` replaces every intrinsic in a value (a property, an output, a condition) with what
it stands for. `AWS::NoValue` removes the property or list item it is used for, as
CloudFormation does. Pure: the context supplies parameter values, conditions and what the
resources created so far answer to Ref and Fn::GetAtt.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sagestack.control.cloudformation.template import TemplateError


class _NoValue:
    """What `{"Ref": "AWS::NoValue"}` evaluates to before its container drops it."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _undefined_condition(name: str) -> bool:
    raise TemplateError(f"Template format error: Unresolved condition dependency {name}")


def _unresolved(name: str) -> Any:
    raise TemplateError(
        f"Template format error: Unresolved resource dependencies [{name}] in the Resources "
        "block of the template"
    )


def _unresolved_attribute(name: str, attribute: str) -> Any:
    return _unresolved(name)


@dataclass(frozen=True, slots=True)
class Context:
    """What intrinsics evaluate against.

    `parameters` holds the stack's parameter values and the pseudo parameters (AWS::Region,
    ...); `condition` answers a named condition; `ref` and `get_att` answer for resources
    (logical id → Ref value; (logical id, attribute) → value) and raise TemplateError for one
    that does not exist.
    """

    parameters: Mapping[str, Any]
    condition: Callable[[str], bool] = _undefined_condition
    ref: Callable[[str], Any] = _unresolved
    get_att: Callable[[str, str], Any] = _unresolved_attribute
    mappings: Mapping[str, Any] = field(default_factory=dict)


def evaluate(value: Any, ctx: Context) -> Any:
    """`value` with every intrinsic function replaced by its result."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = _FUNCTIONS.get(key)
            if function is not None:
                return function(argument, ctx)
        evaluated = {k: evaluate(v, ctx) for k, v in value.items()}
        return {k: v for k, v in evaluated.items() if v is not NO_VALUE}
    if isinstance(value, list):
        items = [evaluate(item, ctx) for item in value]
        return [item for item in items if item is not NO_VALUE]
    return value


def _ref(argument: Any, ctx: Context) -> Any:
    if not isinstance(argument, str):
        raise TemplateError("Template error: every Ref object must have a single String value.")
    if argument == "AWS::NoValue":
        return NO_VALUE
    if argument in ctx.parameters:
        return ctx.parameters[argument]
    return ctx.ref(argument)


def _get_att(argument: Any, ctx: Context) -> Any:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError(
            "Template error: every Fn::GetAtt object requires two non-empty parameters, the "
            "resource name and the resource attribute"
        )
    resource, attribute = argument[0], evaluate(argument[1], ctx)
    if not isinstance(resource, str) or not isinstance(attribute, str) or not attribute:
        raise TemplateError("Template error: Fn::GetAtt takes a resource name and an attribute")
    return ctx.get_att(resource, attribute)


def _sub(argument: Any, ctx: Context) -> str:
    variables: Mapping[str, Any] = {}
    if isinstance(argument, list):
        if len(argument) != 2 or not isinstance(argument[1], dict):
            raise TemplateError(
                "Template error: One or more Fn::Sub intrinsic functions don't specify expected "
                "arguments. Specify a string as first argument, and an optional second argument "
                "to specify a mapping of values to replace in the string"
            )
        argument, variables = argument[0], {k: evaluate(v, ctx) for k, v in argument[1].items()}
    if not isinstance(argument, str):
        raise TemplateError("Template error: Fn::Sub takes a string")

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            found = variables[name]
        elif name in ctx.parameters:
            found = ctx.parameters[name]
        elif "." in name:
            resource, attribute = name.split(".", 1)
            found = ctx.get_att(resource, attribute)
        else:
            found = ctx.ref(name)
        if isinstance(found, list):
            return ",".join(str(item) for item in found)
        return _text(found)

    return _SUB_VARIABLE.sub(replace, argument)


def _join(argument: Any, ctx: Context) -> str:
    if not isinstance(argument, list) or len(argument) != 2 or not isinstance(argument[0], str):
        raise TemplateError("Template error: Fn::Join takes a delimiter and a list of values")
    items = evaluate(argument[1], ctx)
    if not isinstance(items, list):
        raise TemplateError("Template error: Fn::Join's second argument must be a list")
    return argument[0].join(_text(item) for item in items)


def _select(argument: Any, ctx: Context) -> Any:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Template error: Fn::Select takes an index and a list")
    index, items = evaluate(argument[0], ctx), evaluate(argument[1], ctx)
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise TemplateError("Template error: Fn::Select's index must be a number") from None
    if not isinstance(items, list) or not 0 <= position < len(items):
        raise TemplateError("Template error: Fn::Select cannot select nonexistent value at index")
    return items[position]


def _split(argument: Any, ctx: Context) -> list[str]:
    if not isinstance(argument, list) or len(argument) != 2 or not isinstance(argument[0], str):
        raise TemplateError("Template error: Fn::Split takes a delimiter and a string")
    text = evaluate(argument[1], ctx)
    if not isinstance(text, str):
        raise TemplateError("Template error: Fn::Split's second argument must be a string")
    return text.split(argument[0])


def _if(argument: Any, ctx: Context) -> Any:
    if not isinstance(argument, list) or len(argument) != 3 or not isinstance(argument[0], str):
        raise TemplateError(
            "Template error: Fn::If requires a list argument with three elements: the "
            "condition name, the value if true and the value if false"
        )
    return evaluate(argument[1] if ctx.condition(argument[0]) else argument[2], ctx)


def _equals(argument: Any, ctx: Context) -> bool:
    if not isinstance(argument, list) or len(argument) != 2:
        raise TemplateError("Template error: Fn::Equals requires a list of two elements")
    left, right = (evaluate(item, ctx) for item in argument)
    return bool(_text(left) == _text(right))


def _booleans(name: str, argument: Any, ctx: Context) -> Iterator[bool]:
    if not isinstance(argument, list) or not argument:
        raise TemplateError(f"Template error: {name} requires a list of conditions")
    for item in argument:
        result = evaluate(item, ctx)
        if not isinstance(result, bool):
            raise TemplateError(f"Template error: {name} takes conditions, not {result!r}")
        yield result


def _not(argument: Any, ctx: Context) -> bool:
    values = list(_booleans("Fn::Not", argument, ctx))
    if len(values) != 1:
        raise TemplateError("Template error: Fn::Not requires a list of one condition")
    return not values[0]


def _and(argument: Any, ctx: Context) -> bool:
    return all(list(_booleans("Fn::And", argument, ctx)))


def _or(argument: Any, ctx: Context) -> bool:
    return any(list(_booleans("Fn::Or", argument, ctx)))


def _condition(argument: Any, ctx: Context) -> bool:
    if not isinstance(argument, str):
        raise TemplateError("Template error: Condition must name a condition")
    return ctx.condition(argument)


def _find_in_map(argument: Any, ctx: Context) -> Any:
    if not isinstance(argument, list) or len(argument) != 3:
        raise TemplateError("Template error: Fn::FindInMap takes a map, a key and a second key")
    names = [evaluate(item, ctx) for item in argument]
    found: Any = ctx.mappings
    for name in names:
        if not isinstance(found, dict) or _text(name) not in found:
            raise TemplateError(
                f"Template error: Unable to get mapping for {'::'.join(map(_text, names))}"
            )
        found = found[_text(name)]
    return found


def _base64(argument: Any, ctx: Context) -> str:
    return base64.b64encode(_text(evaluate(argument, ctx)).encode()).decode()


def _get_azs(argument: Any, ctx: Context) -> list[str]:
    region = _text(evaluate(argument, ctx)) or str(ctx.parameters.get("AWS::Region", ""))
    return [f"{region}{zone}" for zone in "abc"]


def _unsupported(name: str) -> Callable[[Any, Context], Any]:
    def fail(argument: Any, ctx: Context) -> Any:
        raise TemplateError(f"Template error: {name} is not available in sagestack")

    return fail


def _text(value: Any) -> str:
    """A scalar as CloudFormation turns it into a string (booleans lower-case)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


_FUNCTIONS: Mapping[str, Callable[[Any, Context], Any]] = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Condition": _condition,
    "Fn::FindInMap": _find_in_map,
    "Fn::Base64": _base64,
    "Fn::GetAZs": _get_azs,
    "Fn::ImportValue": _unsupported("Fn::ImportValue"),
    "Fn::Cidr": _unsupported("Fn::Cidr"),
}


def references(value: Any) -> set[str]:
    """The names `value` refers to through Ref, Fn::GetAtt and Fn::Sub (parameters and
    resources alike; the caller keeps the resources)."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                return {argument}
            if key == "Fn::GetAtt":
                if isinstance(argument, str):
                    return {argument.split(".", 1)[0]}
                if isinstance(argument, list) and argument and isinstance(argument[0], str):
                    return {argument[0]} | references(argument[1:])
            if key == "Fn::Sub":
                return _sub_references(argument)
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def _sub_references(argument: Any) -> set[str]:
    text, variables = argument, {}
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
        text, variables = argument
    found = references(variables)
    if isinstance(text, str):
        for name in _SUB_VARIABLE.findall(text):
            if not name.startswith("!") and name not in variables:
                found.add(name.split(".", 1)[0])
    return found
