"""JSON values as JSON Schema reads them, for request models that validate strictly (no "1" for
a number, no 0 for a boolean): JSON Schema counts 1.0 as an integer, and clients generated from
/openapi.json may send it so."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator


def _integral(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# After the field's constraints in its Annotated[int, Field(ge=..), INTEGRAL]: placed before
# them, pydantic writes the bounds into /openapi.json as "ge"/"le", which no client reads.
INTEGRAL = BeforeValidator(_integral)
