"""Named converters for value rules (``convert: [strip, personnummer]``).

Each name resolves, at compile time, to a function ``convert(value, run) -> value`` that raises
``ConversionError`` with a message that never repeats the value. Python's own ``int("x")`` message quotes
the input, so every built-in error is caught here and replaced.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from brygga.mapping.attachments import convert_attachment
from brygga.mapping.errors import ConversionError

Converter = Callable[[Any, Any], Any]


class ConverterUnavailable(LookupError):
    """A converter needs a module that is not installed; the compiler turns this into a config error."""


def _text(value: Any, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ConversionError(f"value is not text and cannot be read as {what}")


def to_string(value: Any, run: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    raise ConversionError("value is a structure, not text")


def to_integer(value: Any, run: Any) -> int:
    if isinstance(value, bool):
        raise ConversionError("value is a boolean, not an integer")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise ConversionError("value is not an integer") from None


# A number as Swedish forms write it: an optional sign (U+2212 MINUS SIGN is read as "-"), a decimal comma or point,
# and groups of three digits separated by a space, a no-break space (U+00A0) or a narrow no-break space (U+202F) as
# thousands separators. ASCII digits only ([0-9], not \d, which takes full-width and Arabic-Indic digits too), no
# exponent: a form field holds no "0,5e3".
_NUMBER = re.compile(r"[+-]?(?:[0-9]+|[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+)(?:[.,][0-9]+)?")
# A point that may as well be a thousands separator: one to three digits (not a leading zero), a point and exactly
# three digits, nothing else. 1.500 is 1500 to some and 1,5 to others.
_POINT_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2}\.[0-9]{3}")
_THOUSANDS = str.maketrans({" ": None, "\u00a0": None, "\u202f": None, ",": ".", "\u2212": "-"})
# Longer text is no number a form asks for (and Python refuses to read an int of over 4300 digits).
MAX_NUMBER_CHARS = 40


def to_number(value: Any, run: Any) -> int | float:
    """Text to a number: ``142`` -> 142, ``128,5`` -> 128.5, ``1 234,5`` -> 1234.5, ``4,0`` -> 4.

    A whole value becomes an int, whatever its notation (``4,0``, ``4.0``); a fraction a float. Thousands separators
    are a space, U+00A0 or U+202F between groups of three digits. Refused rather than guessed: text with both a point
    and a comma (``1.234,5``), and a point followed by exactly three digits after one to three digits (``1.500``,
    ``12.345``), since the point may separate thousands or decimals; a trailing or lone separator (``12,``, ``,5``);
    an exponent (``0,5e3``); digits other than 0-9; text over ``MAX_NUMBER_CHARS`` characters. U+2212 is a minus.
    JSON numbers pass through unchanged.
    """
    if value.__class__ is str:
        text = value.strip()
        if text.isdigit() and text.isascii() and len(text) <= MAX_NUMBER_CHARS:
            return int(text)  # plain digits, the usual answer: what the full reading below gives, sooner
    if isinstance(value, bool):
        raise ConversionError("value is a boolean, not a number")
    if isinstance(value, (int, float)):
        number: int | float = value
    else:
        text = str(value).strip()
        if len(text) > MAX_NUMBER_CHARS:
            raise ConversionError(f"value is longer than {MAX_NUMBER_CHARS} characters, the limit for a number")
        text = text.replace("\u2212", "-")
        if "," in text and "." in text:
            raise ConversionError("value has both a decimal point and a decimal comma: it is ambiguous which one "
                                  "separates thousands, so it is not read as a number; write the number without "
                                  "a thousands separator, or with spaces between thousands (1 234,5)")
        if _NUMBER.fullmatch(text) is None:
            raise ConversionError("value is not a number (digits 0-9, one decimal comma or point, thousands "
                                  "separated by spaces, no exponent)")
        if _POINT_THOUSANDS.fullmatch(text) is not None:
            raise ConversionError("value has a point followed by exactly three digits: it is ambiguous whether the "
                                  "point separates thousands or decimals, so it is not read as a number; write "
                                  "the number without a thousands separator (1500), or with a decimal comma (1,5)")
        text = text.translate(_THOUSANDS)
        try:
            if "." not in text:
                return int(text)
            number = float(text)
        except ValueError:  # not reached: the pattern and the length limit leave nothing int() or float() refuse
            raise ConversionError("value is not a number") from None
        if math.isfinite(number) and number.is_integer():
            return int(number)
    if isinstance(number, float) and not math.isfinite(number):
        raise ConversionError("value is not a finite number")
    return number


_TRUE = frozenset({"true", "1", "yes", "ja", "on", "sant"})
_FALSE = frozenset({"false", "0", "no", "nej", "off", "falskt"})


def to_boolean(value: Any, run: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConversionError("value is not a boolean (true/false, ja/nej, 1/0)")


def _parse_datetime(value: Any, tz: ZoneInfo) -> datetime:
    text = _text(value, "a date-time").strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConversionError("value is not an ISO 8601 date-time") from None
    # Source systems like Open ePlatform write local wall-clock time without an offset.
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def make_datetime(tz: ZoneInfo) -> Converter:
    def to_datetime(value: Any, run: Any) -> str:
        return _parse_datetime(value, tz).isoformat()

    return to_datetime


def make_date(tz: ZoneInfo) -> Converter:
    def to_date(value: Any, run: Any) -> str:
        text = _text(value, "a date").strip()
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        return _parse_datetime(text, tz).date().isoformat()

    return to_date


def to_upper(value: Any, run: Any) -> str:
    return _text(value, "text").upper()


def to_lower(value: Any, run: Any) -> str:
    return _text(value, "text").lower()


def to_strip(value: Any, run: Any) -> str:
    return _text(value, "text").strip()


def _identifier(function_name: str, what: str) -> Converter:
    """Wrap a normaliser from ``brygga.canonical.formats``; imported here so the engine loads without it."""
    try:
        from brygga.canonical import formats
    except ImportError:
        raise ConverterUnavailable(f"converter needs brygga.canonical.formats.{function_name}") from None
    normalise = getattr(formats, function_name, None)
    if normalise is None:
        raise ConverterUnavailable(f"brygga.canonical.formats has no {function_name}")

    def convert(value: Any, run: Any) -> str:
        text = value if value.__class__ is str else _text(value, what)
        try:
            return normalise(text)
        except ValueError as exc:
            # The normalisers say "personnummer: <which rule failed>" and promise never to quote the value;
            # still, a log is the wrong place to find out that one broke that promise.
            explanation = str(exc).partition(": ")[2]
            stripped = text.strip()
            if not explanation or (stripped and stripped in explanation):
                raise ConversionError(f"value is not a valid {what}") from None
            raise ConversionError(f"value is not a valid {what}: {explanation}") from None

    return convert


# name -> factory(tz) -> converter. Factories run once per mapping, at compile time.
FACTORIES: dict[str, Callable[[ZoneInfo], Converter]] = {
    "string": lambda tz: to_string,
    "integer": lambda tz: to_integer,
    "number": lambda tz: to_number,
    "boolean": lambda tz: to_boolean,
    "date": make_date,
    "datetime": make_datetime,
    "personnummer": lambda tz: _identifier("normalise_personnummer", "personnummer"),
    "organisationsnummer": lambda tz: _identifier("normalise_organisationsnummer", "organisationsnummer"),
    "postnummer": lambda tz: _identifier("normalise_postnummer", "postnummer"),
    "fastighetsbeteckning": lambda tz: _identifier("normalise_fastighetsbeteckning", "fastighetsbeteckning"),
    "upper": lambda tz: to_upper,
    "lower": lambda tz: to_lower,
    "strip": lambda tz: to_strip,
    "attachment": lambda tz: convert_attachment,
}

# Converters that read a structure (an element or a dict), not a text value.
STRUCTURAL = frozenset({"attachment"})


def resolve(name: str, tz: ZoneInfo) -> Converter:
    """Raises ``KeyError`` for an unknown name, ``ConverterUnavailable`` for a missing dependency."""
    return FACTORIES[name](tz)
