"""The validation shared by scenario and catalogue files: a frozen pydantic base, constrained
number types, and pydantic's errors turned into one :class:`~chargeplan.errors.ScenarioError`
line that names the file and every offending key."""

from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chargeplan.errors import ScenarioError

__all__ = ["Frozen", "NonNegativeFloat", "PositiveFloat", "Share", "validate"]

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]

# pydantic's error types for a key the model lacks (a model, a dataclass) and for one it needs
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")
_MISSING = ("missing", "missing_argument")


class Frozen(BaseModel):
    """Base of every configuration table: immutable, unknown keys refused, defaults checked."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


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
            parts.append(f"{where}{item['msg']}{shown}")
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
