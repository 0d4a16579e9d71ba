"""JSON Schemas of the API: the same objects validate requests and make ``openapi.json``.

A small validator for the subset of JSON Schema used here (type, properties, required,
additionalProperties, items, min/maxItems, minimum, maximum, enum, min/maxLength, pattern,
format date-time|date). Each problem names its field with a JSON-pointer-like path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..domain.rules import MEMBER_TYPES
from ..service.bounds import INT64_MAX, MAX_POWER_W, MAX_SAMPLES

Schema = dict[str, Any]

MAX_READINGS_PER_REQUEST = 744
#: ``POST /live``: at most this many unavailable devices, each name at most this long
MAX_UNAVAILABLE_DEVICES = 50
MAX_DEVICE_NAME = 100
POD_PATTERN = r"^IT[0-9]{3}E[0-9A-Z]{6,12}$"
#: a year, month or day between 2000 and 2100 (issue #12: ``period=0001`` answered 500)
PERIOD_PATTERN = r"^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One problem of a value against a schema."""

    field: str
    message: str


_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
}


def _type_ok(value: Any, name: str) -> bool:
    if name == "null":
        return value is None
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, _TYPES[name])


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date-time with its offset, or None."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def validate(schema: Schema, value: Any, path: str = "") -> list[FieldProblem]:
    """Every problem of ``value`` against ``schema`` (empty list: valid)."""
    problems: list[FieldProblem] = []
    where = path or "body"
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else list(types)
        if not any(_type_ok(value, name) for name in names):
            expected = " or ".join(names)
            return [FieldProblem(where, f"must be {_article(expected)}")]
    if value is None:
        return problems
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(item) for item in schema["enum"])
        problems.append(FieldProblem(where, f"must be one of: {allowed}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(FieldProblem(where, f"must be ≥ {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(FieldProblem(where, f"must be ≤ {schema['maximum']}"))
    if isinstance(value, str):
        problems.extend(_check_string(schema, value, where))
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(
                FieldProblem(where, f"has {len(value)} items, at most {schema['maxItems']}")
            )
        if "minItems" in schema and len(value) < schema["minItems"]:
            problems.append(FieldProblem(where, f"needs at least {schema['minItems']} items"))
        item_schema = schema.get("items")
        # x-per-item: the items are checked one by one by the handler (a bad one is rejected
        # alone), not as part of the whole body
        if item_schema is not None and not problems and not schema.get("x-per-item"):
            for index, item in enumerate(value):
                problems.extend(validate(item_schema, item, f"{path}/{index}"))
    if isinstance(value, dict):
        properties: dict[str, Schema] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                problems.append(FieldProblem(_join(path, name), "is required"))
        if schema.get("additionalProperties") is False:
            for name in value:
                if name not in properties:
                    problems.append(FieldProblem(_join(path, name), "is not a known field"))
        for name, sub in properties.items():
            if name in value:
                problems.extend(validate(sub, value[name], _join(path, name)))
    return problems


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def fast_validator(schema: Schema) -> Callable[[Any], bool]:
    """A quick yes/no check of a flat object schema, built from the same schema.

    True means the value satisfies the schema except ``format`` (the caller parses those
    strings); False means: call :func:`validate` for the messages. It spares the
    per-field walk on the hot path of ingest (hundreds of thousands of readings a second).
    """
    properties: dict[str, Schema] = schema.get("properties", {})
    required = frozenset(schema.get("required", ()))
    allowed = frozenset(properties)
    specs = {}
    for name, sub in properties.items():
        kinds = sub.get("type")
        names = [kinds] if isinstance(kinds, str) else list(kinds or ())
        types = tuple({t for kind in names for t in _PY_TYPES[kind]})
        pattern = re.compile(sub["pattern"]) if "pattern" in sub else None
        enum = frozenset(sub["enum"]) if "enum" in sub else None
        specs[name] = (types, sub.get("minimum"), sub.get("maximum"), enum, pattern)

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return False
        keys = value.keys()
        if not (required <= keys <= allowed):
            return False
        for name, item in value.items():
            types, minimum, maximum, enum, pattern = specs[name]
            if type(item) not in types:  # exact types: bool is not an integer here
                return False
            if minimum is not None and item < minimum:
                return False
            if maximum is not None and item > maximum:
                return False
            if enum is not None and item not in enum:
                return False
            if pattern is not None and not pattern.search(item):
                return False
        return True

    return check


def _check_string(schema: Schema, value: str, where: str) -> list[FieldProblem]:
    problems = []
    if "minLength" in schema and len(value) < schema["minLength"]:
        problems.append(FieldProblem(where, f"must have at least {schema['minLength']} characters"))
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        problems.append(FieldProblem(where, f"must have at most {schema['maxLength']} characters"))
    if "pattern" in schema and not re.search(schema["pattern"], value):
        problems.append(FieldProblem(where, f"does not match {schema['pattern']}"))
    fmt = schema.get("format")
    if fmt == "date-time" and parse_datetime(value) is None:
        problems.append(FieldProblem(where, "must be an ISO 8601 date-time with its UTC offset"))
    if fmt == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            problems.append(FieldProblem(where, "must be an ISO 8601 date (YYYY-MM-DD)"))
    if fmt == "period" and not _period_ok(value):
        problems.append(FieldProblem(where, "must be a year, month or day from 2000 to 2100"))
    return problems


def _period_ok(value: str) -> bool:
    """A year (YYYY), month (YYYY-MM) or day (YYYY-MM-DD) from 2000 to 2100."""
    if not re.fullmatch(PERIOD_PATTERN, value):
        return False
    parts = [int(part) for part in value.split("-")]
    try:
        date(parts[0], *[*parts[1:], 1, 1][:2])
    except ValueError:
        return False
    return True


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _article(expected: str) -> str:
    return f"an {expected}" if expected[0] in "aeiou" else f"a {expected}"


def nullable(schema: Schema) -> Schema:
    """The schema, also accepting null."""
    kind = schema.get("type")
    result = dict(schema)
    if isinstance(kind, str):
        result["type"] = [kind, "null"]
    return result


# --- request and response bodies --------------------------------------------------------------

WH = {"type": "integer", "minimum": 0, "maximum": INT64_MAX, "description": "energy, integer Wh"}
POD = {"type": "string", "pattern": POD_PATTERN, "description": "POD code, e.g. IT001E12345678"}
DATE_TIME = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
PERIOD = {"type": "string", "pattern": PERIOD_PATTERN, "format": "period"}
#: nameplate power of a plant (kW): its plausible range is a registry rule (checked against
#: the whole community document)
POWER_KW = {"type": "number", "minimum": 0}
#: available power of a point (kW): up to 1 GW (issue #12: a huge one broke the ingest bounds)
POINT_POWER_KW = {"type": "number", "minimum": 0, "maximum": MAX_POWER_W / 1000}

READING: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["hour_start", "injected_wh", "withdrawn_wh"],
    "properties": {
        "hour_start": {**DATE_TIME, "description": "start of the closed hour, with offset"},
        "injected_wh": WH,
        "withdrawn_wh": WH,
        "produced_wh": WH,
        "consumed_wh": WH,
        "quality": {"type": "string", "enum": ["measured", "estimated", "derived"]},
        "samples": {"type": "integer", "minimum": 0, "maximum": MAX_SAMPLES},
    },
}

READINGS_UPLOAD: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["pod", "readings"],
    "properties": {
        "pod": POD,
        # items are validated one by one (a bad item is rejected, the others stored)
        "readings": {
            "type": "array",
            "maxItems": MAX_READINGS_PER_REQUEST,
            "items": READING,
            "x-per-item": True,
        },
    },
}

READINGS_ANSWER: Schema = {
    "type": "object",
    "required": ["accepted", "duplicates", "replaced", "rejected"],
    "properties": {
        "accepted": {"type": "integer"},
        "duplicates": {"type": "integer"},
        "replaced": {"type": "integer"},
        "rejected": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "status": {"type": "integer"},
                },
            },
        },
        "late": {
            "type": "integer",
            "description": "readings of a finalised period: stored, for a correction run",
        },
    },
}

LIVE_UPLOAD: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "pod",
        "ts",
        "injection_w",
        "withdrawal_w",
        "hour_injected_wh",
        "hour_withdrawn_wh",
    ],
    "properties": {
        "pod": POD,
        "ts": DATE_TIME,
        "injection_w": {"type": "number", "minimum": 0, "maximum": MAX_POWER_W},
        "withdrawal_w": {"type": "number", "minimum": 0, "maximum": MAX_POWER_W},
        "hour_injected_wh": WH,
        "hour_withdrawn_wh": WH,
        "unavailable_devices": {
            "type": "array",
            "maxItems": MAX_UNAVAILABLE_DEVICES,
            "items": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_DEVICE_NAME,
                "pattern": r"^[^\x00-\x1f\x7f]+$",
            },
            "description": "optional: names of the site's devices that Home Assistant reports "
            "unavailable now (absent or empty: none)",
        },
    },
}

COMMUNITY_LIVE: Schema = {
    "type": "object",
    "properties": {
        "hour_start": DATE_TIME,
        "injected_wh": {"type": "integer"},
        "withdrawn_wh": {"type": "integer"},
        "shared_wh": {"type": "integer"},
        "surplus_w": {"type": "number"},
        "sites_reporting": {"type": "integer"},
        "sites_total": {"type": "integer"},
        "tip_estimate_eur_mwh": {"type": ["number", "null"]},
        "sites_expected": {
            "type": "integer",
            "description": "PODs that uploaded from a Home Assistant (an ha hour or a live "
            "figure) in the site_silent alert's active_days: the sites expected to report",
        },
    },
}

SETTLEMENT_REQUEST: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["period"],
    "properties": {
        "period": {
            "type": "string",
            "pattern": r"^(20[0-9]{2}|2100)(-(0[1-9]|1[0-2]))?$",
            "format": "period",
        },
        "community": {"type": "string"},
        "kind": {"type": "string", "enum": ["month", "year", "correction"]},
    },
}

FINALISE_REQUEST: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "force": {"type": "boolean", "description": "finalise a stale or incomplete run"},
        "reason": {"type": "string", "minLength": 1, "maxLength": 2000},
    },
}

COMMUNITY_PATCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "region": {"type": "string", "minLength": 1, "maxLength": 64},
        "market_zone": {"type": ["string", "null"], "maxLength": 16},
        "cabina_primaria": {"type": "string", "minLength": 1, "maxLength": 64},
        "timezone": {"type": "string", "minLength": 1, "maxLength": 64},
        "cu_afa_eur_mwh": {"type": "object"},
        "statute": {"type": "object"},
        "max_hour_wh": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": INT64_MAX,
            "description": "plausibility bound of any energy of one point in one hour (Wh);"
            " null: the default, 10 MWh",
        },
    },
}

MEMBER: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "type"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "type": {
            "type": "string",
            "description": "member type; those excluded by GSE-RULES §8 are refused",
            "enum": [k for k, v in MEMBER_TYPES.items() if not v.excluded],
        },
        "pods": {"type": "array", "items": POD},
        "joined": nullable(DATE),
        "left": nullable(DATE),
    },
}
MEMBER_PATCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {k: v for k, v in MEMBER["properties"].items() if k not in ("id", "pods")},
}
POD_CREATE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["pod", "member"],
    "properties": {
        "pod": POD,
        "member": {"type": "string", "minLength": 1, "maxLength": 64},
        "power_kw": nullable(POINT_POWER_KW),
        "label": nullable({"type": "string", "maxLength": 200}),
    },
}
POD_PATCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "power_kw": nullable(POINT_POWER_KW),
        "label": nullable({"type": "string", "maxLength": 200}),
    },
}
PLANT: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "pod", "owner", "power_kw", "source", "commissioned"],
    "properties": {
        "id": {"type": "string", "minLength": 1, "maxLength": 64},
        "pod": POD,
        "owner": {"type": "string", "minLength": 1, "maxLength": 64},
        "power_kw": POWER_KW,
        "source": {"type": "string", "enum": ["pv", "wind", "hydro", "biogas", "other"]},
        "commissioned": DATE,
        "capital_grant_pct": {"type": "number", "minimum": 0, "maximum": 100},
        "voltage": {"type": "string", "enum": ["lv", "mv"]},
    },
}
PLANT_PATCH: Schema = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        k: v for k, v in PLANT["properties"].items() if k not in ("id", "pod", "commissioned")
    },
}
END_DATE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["date"],
    "properties": {"date": {**DATE, "description": "the first day no longer in force"}},
}
TOKEN_CREATE: Schema = {
    "type": "object",
    "additionalProperties": False,
    "required": ["role"],
    "properties": {
        "role": {"type": "string", "enum": ["admin", "site", "viewer"]},
        "community": nullable({"type": "string", "maxLength": 64}),
        "pods": {"type": "array", "items": POD},
        "label": nullable({"type": "string", "maxLength": 200}),
    },
}
COMMUNITY_FILE: Schema = {
    "type": "object",
    "description": "a community file of FORMATS.md, as JSON (checked by the settlement engine)",
    "required": ["community", "members", "plants"],
    "properties": {
        "community": {"type": "object"},
        "members": {"type": "array", "items": {"type": "object"}},
        "plants": {"type": "array", "items": {"type": "object"}},
    },
}
PROBLEM: Schema = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "index": {"type": "integer"},
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
