"""The validation shared by scenario and catalogue files: a frozen pydantic base, constrained
number types, and pydantic's errors turned into one :class:`~chargeplan.errors.ScenarioError`
line that names the file and every offending key.

Numbers are strict in two ways pydantic is not by default: ``inf`` and ``nan`` are refused
(TOML allows them; one infinite share or cost puts every user in one zone or breaks the solver
far from the key), and a number written as text (``"20000000"``) or a boolean is refused rather
than converted, so a quoting mistake is reported where it was made."""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from chargeplan.errors import ScenarioError

__all__ = ["Frozen", "NonNegativeFloat", "PositiveFloat", "Share", "check_numbers", "validate"]

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]

# pydantic's error types for a key the model lacks (a model, a dataclass) and for one it needs
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")
_MISSING = ("missing", "missing_argument")


class Frozen(BaseModel):
    """Base of every configuration table: immutable, unknown keys refused, defaults checked."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", validate_default=True, allow_inf_nan=False
    )

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name is not None:
            check_numbers(value, cls.model_fields[info.field_name].annotation)
        return value


def check_numbers(value: Any, annotation: Any, where: str = "") -> None:
    """Raise ``ValueError`` where ``value`` holds text or a boolean in a place ``annotation``
    takes only numbers (tables and lists are followed into); anything else is left to pydantic.
    """
    if isinstance(value, str | bool) and _numeric_only(annotation):
        shown = "a boolean" if isinstance(value, bool) else "text"
        raise ValueError(
            f"{where}expected a number, got {shown} {value!r} (write numbers unquoted)"
        )
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        check_numbers(value, args[0], where)
    elif origin in (typing.Union, types.UnionType):
        containers = [a for a in args if typing.get_origin(a) in (dict, list, tuple)]
        if len(containers) == 1:
            check_numbers(value, containers[0], where)
    elif origin is dict and isinstance(value, dict) and len(args) == 2:
        for key, item in value.items():
            check_numbers(item, args[1], f"{where}entry '{key}': ")
    elif origin in (list, tuple) and isinstance(value, list | tuple) and args:
        for number, item in enumerate(value, start=1):
            check_numbers(item, args[0], f"{where}item {number}: ")


def _numeric_only(annotation: Any) -> bool:
    """Whether ``annotation`` takes numbers and nothing a text could be (str, Path, Literal)."""
    if annotation in (int, float):
        return True
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is Annotated:
        return _numeric_only(args[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in args if a is not type(None)]
        return (
            bool(kinds)
            and all(_numeric_only(a) or typing.get_origin(a) in (dict, list, tuple) for a in kinds)
            and any(_numeric_only(a) for a in kinds)
        )
    return False


def validate(model: type[Any], data: Any, *, label: str) -> Any:
    """Validate ``data`` into ``model``, or raise one :class:`ScenarioError` line.

    Parameters
    ----------
    model
        A pydantic model (usually a :class:`Frozen` subclass).
    data
        The table read from TOML (or a model's dump with changed values).
    label
        What the message starts with: the file, and the table within it if any.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_format_errors(error, label, model)) from None


def _format_errors(error: ValidationError, label: str, model: type[Any]) -> str:
    parts = []
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"])
        if item["type"] in _UNKNOWN:
            known = _known_keys(model, item["loc"][:-1])
            close = difflib.get_close_matches(str(item["loc"][-1]), known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            parts.append(f"unknown key '{key}'{hint}")
        elif item["type"] in _MISSING:
            parts.append(f"missing key '{key}'")
        else:
            got = item.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            where = f"key '{key}': " if key else ""
            message = item["msg"].removeprefix("Value error, ")
            if repr(got) in message:
                shown = ""  # the message quotes it already
            parts.append(f"{where}{message}{shown}")
    return f"{label}: " + "; ".join(parts)


def _known_keys(model: Any, loc: tuple[Any, ...]) -> list[str]:
    """The keys of the table at ``loc`` below ``model`` (none if it is not a table)."""
    for part in loc:
        model = _field_types(model).get(part)
        if model is None:
            return []
    return list(_field_types(model))


def _field_types(model: Any) -> dict[str, Any]:
    """Field name -> type of a pydantic model or a dataclass; empty for anything else."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {name: field.annotation for name, field in model.model_fields.items()}
    if isinstance(model, type) and dataclasses.is_dataclass(model):
        return typing.get_type_hints(model)
    return {}
