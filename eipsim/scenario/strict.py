"""The one strict pydantic base model for every file a researcher writes.

Scenarios and experiments share it, so both refuse the same things: unknown keys, ``inf``
and ``nan`` (a run would poison its outputs with them), and ``true``/``false`` where a number
is expected (pydantic would quietly read ``true`` as 1).
"""

from __future__ import annotations

import types
import typing
from typing import Annotated, Any, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _numeric(ann: Any) -> str | None:
    """'num' for int/float fields (also optional or annotated), 'map' for dicts of numbers."""
    origin = get_origin(ann)
    if origin is Annotated:
        return _numeric(get_args(ann)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = {_numeric(a) for a in get_args(ann) if a is not type(None)}
        return kinds.pop() if len(kinds) == 1 else None
    if ann in (int, float):
        return "num"
    if origin is dict and len(get_args(ann)) == 2 and _numeric(get_args(ann)[1]) == "num":
        return "map"
    return None


class Strict(BaseModel):
    """Unknown keys, non-finite numbers and yes/no values for numbers are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return v
        field = cls.model_fields.get(info.field_name)
        kind = _numeric(field.annotation) if field is not None else None
        if kind == "num" and isinstance(v, bool):
            raise ValueError("expected a number, got a yes/no value")
        if kind == "map" and isinstance(v, dict):
            bad = [k for k, x in v.items() if isinstance(x, bool)]
            if bad:
                raise ValueError(f"{bad[0]}: expected a number, got a yes/no value")
        return v
