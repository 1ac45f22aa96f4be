"""Block Kit objects as Slack's API takes them: `JsonObject.to_dict`, for less CPU.

slack_sdk's `to_dict` validates an object (each `@JsonValidator` method, in name order)
and then lists its non-empty attributes, converting children the same way. Its
validation looks for validators among every instance attribute too and its conversion
walks each child's dict a second time; for the notifier's messages (sections, contexts,
actions, mrkdwn text: tens of objects per message, fifteen messages per flow) that was
a tenth of its CPU. `as_dict` gives the same dict and raises the same
`SlackObjectFormationError`, calling the same validators in the same order; an object
whose class serialises or validates itself its own way is left to its `to_dict`
(`tests/shared/test_block_dicts.py` compares both on every block a golden file pins).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from slack_sdk.models.basic_objects import EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST, JsonObject

_EMPTY_ALLOWED = frozenset((e["type"], e["property"]) for e in EMPTY_ALLOWED_TYPE_AND_PROPERTY_LIST)


@lru_cache(maxsize=256)  # one entry per Block Kit class
def _validators(cls: type[JsonObject]) -> tuple[str, ...]:
    """The names of a class's validators, in the order `validate_json` calls them."""
    return tuple(
        sorted(
            name
            for name in dir(cls)
            if not name.startswith("__")
            and callable(attribute := getattr(cls, name, None))
            and hasattr(attribute, "validator")
        )
    )


@lru_cache(maxsize=256)
def _plain(cls: type[JsonObject]) -> bool:
    """Whether the class serialises itself as `JsonObject` does (no override of its own)."""
    return (
        cls.to_dict is JsonObject.to_dict
        and cls.validate_json is JsonObject.validate_json
        and cls.get_non_null_attributes is JsonObject.get_non_null_attributes
        and cls.get_object_attribute is JsonObject.get_object_attribute
    )


def as_dict(obj: JsonObject) -> dict[str, Any]:
    """`obj.to_dict()`: validated (SlackObjectFormationError), non-empty attributes only."""
    cls = type(obj)
    if not _plain(cls):
        return {key: _value(value) for key, value in obj.to_dict().items()}
    for name in _validators(cls):
        getattr(obj, name)()
    kind = getattr(obj, "type", None)
    out: dict[str, Any] = {}
    for key in sorted(obj.attributes):
        value = getattr(obj, key, None)  # `get_object_attribute`, not overridden (`_plain`)
        if value is None:
            continue
        if hasattr(value, "__len__") and len(value) == 0 and (kind, key) not in _EMPTY_ALLOWED:
            continue
        out[key] = _value(value)
    return out


# Most values are text, numbers or flags: recognised by exact type, before the
# isinstance checks (JsonObject's goes through ABCMeta, the dearest line here).
_SCALARS = frozenset({str, int, float, bool})


def _value(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if isinstance(value, JsonObject):
        return as_dict(value)
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None and callable(to_dict):
        return {key: _value(v) for key, v in to_dict().items()}
    return value
