"""Swedish identifier formats: checkers for the canonical schema and normalisers for the mapping engine.

Checkers (`is_*`) answer for the *canonical* stored form only (e.g. a personnummer as 12 digits) and never
raise: they run inside the JSON Schema validator for every case, so they must be cheap and total.

Normalisers (`normalise_*`) accept the forms people and e-services actually type and return the canonical
form. They raise `InvalidIdentifier`, whose message names the rule that failed but never the value:
identifiers are personal data, and these messages end up in logs, the ledger and quarantine reasons.

The rules follow Skatteverket (personnummer, samordningsnummer), Bolagsverket (organisationsnummer), PostNord
(postnummer), SCB (kommunkod) and Lantmäteriet (fastighetsbeteckning). The PyPI packages `personnummer` and
`organisationsnummer` are the oracle these checks are tested against (tests/canonical). They are not called at
run time: they cost about 10 µs per call, accept a trailing newline, resolve the century from the wall clock
with no way to inject it, and put the value in their exception messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date

__all__ = [
    "FORMAT_CHECKERS",
    "InvalidIdentifier",
    "is_fastighetsbeteckning",
    "is_kommunkod",
    "is_organisationsnummer",
    "is_personnummer",
    "is_postnummer",
    "normalise_fastighetsbeteckning",
    "normalise_organisationsnummer",
    "normalise_personnummer",
    "normalise_postnummer",
]


class InvalidIdentifier(ValueError):
    """An identifier broke a rule. `identifier` and `rule` are machine-readable; the value is never kept."""

    def __init__(self, identifier: str, rule: str, explanation: str) -> None:
        super().__init__(f"{identifier}: {explanation}")
        self.identifier = identifier
        self.rule = rule


# --- shared arithmetic ----------------------------------------------------------------------------

# Identifiers are checked as ASCII bytes with unrolled arithmetic: this runs for every identifier of every
# case, and int() on str slices costs several times more. Callers check for ASCII digits first.
# Luhn doubling with the "minus 9" applied, indexed by byte: b"0" is 48.
_DOUBLED = (0,) * 48 + (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
_DAYS_IN_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _luhn_ok(b: bytes, start: int = 0) -> bool:
    """Luhn over the 10 digits from `start` (YYMMDDNNNC or an organisationsnummer); odd positions doubled."""
    doubled = _DOUBLED[b[start]] + _DOUBLED[b[start + 2]] + _DOUBLED[b[start + 4]] + _DOUBLED[b[start + 6]]
    plain = b[start + 1] + b[start + 3] + b[start + 5] + b[start + 7] + b[start + 9] - 5 * 48
    return (doubled + _DOUBLED[b[start + 8]] + plain) % 10 == 0


def _two(b: bytes, at: int) -> int:
    """The number written by the two ASCII digits at `at`."""
    return b[at] * 10 + b[at + 1] - 528  # 528 == 48 * 11


def _is_real_date(year: int, month: int, day: int) -> bool:
    if not 1 <= month <= 12 or not 1 <= day <= _DAYS_IN_MONTH[month]:
        return False
    if month == 2 and day == 29:
        return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return True


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() alone accepts e.g. Arabic-Indic digits, which int() would then happily convert.
    return text.isascii() and text.isdigit()


# --- personnummer / samordningsnummer -------------------------------------------------------------

_PNR_INPUT = re.compile(
    r"(?P<century>[0-9]{2})?(?P<yymmdd>[0-9]{6})(?P<sep>[-+]?)(?P<serial>[0-9]{3})(?P<check>[0-9])", re.ASCII
)


def _personnummer_problem(twelve: bytes) -> tuple[str, str] | None:
    """Return (rule, explanation) for 12 ASCII digits, or None when they are a valid personnummer."""
    b = twelve
    year = b[0] * 1000 + b[1] * 100 + b[2] * 10 + b[3] - 53328  # 53328 == 48 * 1111
    month = b[4] * 10 + b[5] - 528
    day = b[6] * 10 + b[7] - 528
    # Samordningsnummer: the day of birth plus 60 (Skatteverket), so 61..91 are days 1..31.
    if day > 60:
        day -= 60
    # Personnummer were introduced in 1947 for everyone alive then, so no birth year is before 1800.
    if year < 1800 or not _is_real_date(year, month, day):
        return "date", "the birth date (or samordningsnummer day minus 60) is not a real date"
    if twelve[8:11] == b"000":
        return "serial", "the birth number (digits 9-11) must not be 000"
    if not _luhn_ok(twelve, 2):
        return "luhn", "the check digit does not match (Luhn)"
    return None


def is_personnummer(value: str) -> bool:
    """Canonical form: 12 ASCII digits YYYYMMDDNNNC, a real date (day + 60 for samordningsnummer), Luhn."""
    return (
        isinstance(value, str)
        and len(value) == 12
        and _is_ascii_digits(value)
        and _personnummer_problem(value.encode("ascii")) is None
    )


def _resolve_century(yymmdd: str, plus: bool, today: date) -> str:
    """Pick the full year for a two-digit year.

    Skatteverket's rule: "-" means the person is under 100, "+" that they are 100 or older. So the birth date
    is the latest one with these digits that is not after today (or not after today minus 100 years for "+").
    """
    yy, month, day = int(yymmdd[0:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    if day > 60:
        day -= 60
    base = today.year - 100 if plus else today.year
    year = base - (base - yy) % 100
    if year == base and (month, day) > (today.month, today.day):
        year -= 100
    return f"{year:04d}"


def normalise_personnummer(text: str, *, today: date | None = None) -> str:
    """Return a personnummer or samordningsnummer as 12 digits YYYYMMDDNNNC.

    Accepts YYMMDD-NNNC, YYMMDD+NNNC (100 years or older), YYMMDDNNNC, YYYYMMDDNNNC and YYYYMMDD-NNNC, with
    surrounding whitespace. `today` fixes the reference date for the century of the short forms (tests,
    replays).
    """
    if not isinstance(text, str):
        raise InvalidIdentifier("personnummer", "type", "expected text")
    match = _PNR_INPUT.fullmatch(text.strip())
    if match is None:
        raise InvalidIdentifier(
            "personnummer", "shape", "expected YYMMDD-NNNC, YYMMDD+NNNC, YYYYMMDDNNNC or YYYYMMDD-NNNC"
        )
    century, yymmdd, sep = match["century"], match["yymmdd"], match["sep"]
    if century is None:
        full_year = _resolve_century(yymmdd, sep == "+", today or date.today())
        twelve = full_year + yymmdd[2:] + match["serial"] + match["check"]
    elif sep == "+":
        raise InvalidIdentifier("personnummer", "shape", "a '+' separator only goes with a two-digit year")
    else:
        twelve = century + yymmdd + match["serial"] + match["check"]
    problem = _personnummer_problem(twelve.encode("ascii"))
    if problem is not None:
        raise InvalidIdentifier("personnummer", *problem)
    return twelve


# --- organisationsnummer --------------------------------------------------------------------------

_ORGNR_INPUT = re.compile(r"(?P<prefix>[0-9]{2})?(?P<head>[0-9]{6})-?(?P<tail>[0-9]{4})", re.ASCII)


def _organisationsnummer_problem(ten: bytes) -> tuple[str, str] | None:
    """Return (rule, explanation) for 10 ASCII digits, or None when they are a valid organisationsnummer."""
    if not _luhn_ok(ten):
        return "luhn", "the check digit does not match (Luhn)"
    # Legal persons have 20 or more in the "month" position (Bolagsverket), which keeps them apart from
    # personnummer. A sole trader (enskild näringsidkare) uses their personnummer, so that form is allowed
    # too.
    if _two(ten, 2) >= 20 and ten[0] != 48:
        return None
    for century in (b"19", b"20"):
        if _personnummer_problem(century + ten) is None:
            return None
    return "group", "digits 3-4 must be 20 or more (or the number must be a sole trader's personnummer)"


def is_organisationsnummer(value: str) -> bool:
    """Canonical form: 10 ASCII digits, Luhn, a legal person's number or a sole trader's personnummer."""
    return (
        isinstance(value, str)
        and len(value) == 10
        and _is_ascii_digits(value)
        and _organisationsnummer_problem(value.encode("ascii")) is None
    )


def normalise_organisationsnummer(text: str) -> str:
    """Return an organisationsnummer as 10 digits.

    Accepts NNNNNN-NNNC, NNNNNNNNNC and the 12-digit forms with the "16" prefix used by some registers.
    A 12-digit personnummer (a sole trader) is accepted and shortened to its 10 digits, as Bolagsverket
    writes it.
    """
    if not isinstance(text, str):
        raise InvalidIdentifier("organisationsnummer", "type", "expected text")
    match = _ORGNR_INPUT.fullmatch(text.strip())
    if match is None:
        raise InvalidIdentifier("organisationsnummer", "shape", "expected NNNNNN-NNNC or NNNNNNNNNC")
    ten = match["head"] + match["tail"]
    prefix = match["prefix"]
    if prefix is not None and prefix != "16":
        problem = _personnummer_problem((prefix + ten).encode("ascii"))
        if problem is not None:
            raise InvalidIdentifier(
                "organisationsnummer",
                "shape",
                "a 12-digit form must start with 16 or be a valid personnummer",
            )
        return ten
    problem = _organisationsnummer_problem(ten.encode("ascii"))
    if problem is not None:
        raise InvalidIdentifier("organisationsnummer", *problem)
    return ten


# --- postnummer -----------------------------------------------------------------------------------

# A space or a no-break space between the groups: forms and PDFs produce both.
_POSTNUMMER_INPUT = re.compile("([1-9][0-9]{2})[ \u00a0]?([0-9]{2})", re.ASCII)


def is_postnummer(value: str) -> bool:
    """Canonical form: 5 ASCII digits, the first not 0 (PostNord), no space."""
    return isinstance(value, str) and len(value) == 5 and _is_ascii_digits(value) and value[0] != "0"


def normalise_postnummer(text: str) -> str:
    """Return a Swedish postnummer as 5 digits: accepts "69231" and "692 31", with surrounding whitespace."""
    if not isinstance(text, str):
        raise InvalidIdentifier("postnummer", "type", "expected text")
    match = _POSTNUMMER_INPUT.fullmatch(text.strip())
    if match is None:
        raise InvalidIdentifier("postnummer", "shape", "expected five digits, the first not 0, e.g. NNN NN")
    return match[1] + match[2]


# --- kommunkod ------------------------------------------------------------------------------------

# The two first digits are the county (län) code; these are the 21 counties since 1998 (SCB).
_LAN_CODES = frozenset(
    f"{n:02d}" for n in (1, 3, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 17, 18, 19, 20, 21, 22, 23, 24, 25)
)


def is_kommunkod(value: str) -> bool:
    """Four ASCII digits whose first two are a current county (län) code, e.g. 1881 (Kumla, Örebro län)."""
    return isinstance(value, str) and len(value) == 4 and _is_ascii_digits(value) and value[:2] in _LAN_CODES


# --- fastighetsbeteckning -------------------------------------------------------------------------

# Lantmäteriet's designation: the kommun name (or a former kommun/district name), the trakt or kvarter name,
# then the register unit. Names are upper-case words, possibly hyphenated (UPPLANDS-BRO), and there are at
# least two of them (kommun + trakt; either may have several words: LILLA EDET, INOM VALLGRAVEN). The unit is
# block:enhet (1:23), or only enhet in a kvarter (SUNDSVALL TEST 1), or a joint unit: S:5 for a samfällighet
# and GA:3 for a gemensamhetsanläggning, which case systems treat like a property in e.g. bygglov.
_WORD = r"[A-ZÅÄÖÉÜ][A-ZÅÄÖÉÜ]*(?:-[A-ZÅÄÖÉÜ]+)*"
_FASTIGHET = re.compile(rf"{_WORD}(?: {_WORD})+ (?:(?:[1-9][0-9]{{0,3}}|S|GA):)?[1-9][0-9]{{0,4}}")
_SPACES = re.compile(r"\s+")
_COLON_SPACES = re.compile(r"\s*:\s*")


def is_fastighetsbeteckning(value: str) -> bool:
    """Canonical form, e.g. KUMLA STENEN 1:23, ÖREBRO TULLEN 12:345, KUMLA STENEN S:5, SUNDSVALL TEST 1."""
    return isinstance(value, str) and len(value) <= 120 and _FASTIGHET.fullmatch(value) is not None


def normalise_fastighetsbeteckning(text: str) -> str:
    """Upper-case and tidy spacing ("Kumla  Stenen 1 : 23" -> "KUMLA STENEN 1:23"), then check the shape."""
    if not isinstance(text, str):
        raise InvalidIdentifier("fastighetsbeteckning", "type", "expected text")
    canonical = _COLON_SPACES.sub(":", _SPACES.sub(" ", text.strip())).upper()
    if not is_fastighetsbeteckning(canonical):
        raise InvalidIdentifier(
            "fastighetsbeteckning", "shape", "expected KOMMUN TRAKT BLOCK:ENHET, e.g. KUMLA STENEN 1:23"
        )
    return canonical


# The custom JSON Schema `format` values of schemas/canonical, by name.
FORMAT_CHECKERS: Mapping[str, Callable[[str], bool]] = {
    "personnummer": is_personnummer,
    "organisationsnummer": is_organisationsnummer,
    "fastighetsbeteckning": is_fastighetsbeteckning,
    "postnummer": is_postnummer,
    "kommunkod": is_kommunkod,
}
