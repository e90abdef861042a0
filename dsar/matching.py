"""Finding a person's identifiers as people write them: the one place that decides what "mentions the person"
means, for the erasure (tickets, texts, timelines, history, audit entries), its preview, the verification
scan and the access report, and for narrowing rows in the database.

- **Emails** match as whole addresses, in any case, with or without a ``+tag`` on the local part
  (``zoe+orders@example.com`` is ``zoe@example.com``'s); never inside a longer address: ``bob@example.com`` is
  not inside ``jimbob@example.com`` nor ``bob@example.com.au``.
- **Phones** are parsed with ``phonenumbers`` (libphonenumber), reading national forms as the account's country
  and as the number's own country writes them: ``+44 20 7946 0018``, ``(020) 7946 0018``, ``020-7946-0018``,
  ``02079460018``, ``00442079460018``, ``+44 (0)20 7946 0018`` are one number; a longer number that contains it
  is another. A stored phone column is compared by its parsed number (:meth:`Matcher.is_phone`).
- **Names** are compared after transliteration (``anyascii``: ``Ł→L``, ``Ø→O``, ``ß→ss``) and case folding, as
  whole words in either order (``Zoë Łukasz``, ``ZOE LUKASZ``, ``Lukasz, Zoe``): "Bob Marsh" is not inside
  "Bob Marshall". A lone first or last name, or an initial with the last name, matches only in records already
  linked to the person (``linked=True``), written as a name (capitalised), never inside an email address and
  never as part of another person's full name ("Erik Hansen in finance").

The database narrows rows with :attr:`Matcher.db_pattern`, a superset built from explicit character classes
(every letter that transliterates to the same one, in both cases), so the same text runs in SQLite (whose
REGEXP Django implements with Python's ``re``) and in PostgreSQL; Python then decides with the exact rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from django.db.models import Q

from dsar.sources import Subject

# phonenumbers (with its metadata) and anyascii are imported where they are used: this module loads with the
# apps (the erasure sources registered at start-up use it), and every command would pay for them.
if TYPE_CHECKING:
    import phonenumbers

REDACTED = "[redacted]"
#: Names shorter than this match inside ordinary words ("Al" in "Call"): never searched for alone.
MIN_NAME_LENGTH = 3
#: What separates the digits of a phone number as people write it.
_PHONE_SEPARATORS = "[ .()/-]*"
#: Characters that need a backslash to be literal in Python's and PostgreSQL's regular expressions alike.
_SPECIAL = set(".^$*+?()[]{}|\\-")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: Words before a surname that do not make it someone else's full name ("Dear Hansen", "Mr Hansen").
_SALUTATIONS = frozenset(
    "dear hi hello hey thanks thank mr mrs ms miss mx dr prof sir madam herr fru frau hej bonjour monsieur madame "
    "mme mlle m merci hola gracias sr sra tack cc to from attn".split()
)
_WORD_BEFORE = re.compile(r"(\w+)[ \t]+$")
_WORD_AFTER = re.compile(r"[ \t]+(\w+)")
#: The scripts whose letters a name may be written in: Latin with its accents, Greek, Cyrillic.
_LETTER_RANGES = ((0x41, 0x250), (0x370, 0x400), (0x400, 0x530), (0x1E00, 0x1F00))
#: In JSON text (SQLite keeps non-ASCII escaped) any non-ASCII letter may stand as ``\\uXXXX``.
_JSON_ESCAPE = r"\\u[0-9a-fA-F]{4}"


def fold(text: str) -> str:
    """``text`` transliterated to ASCII and in lower case: "Zoë Łukasz" → "zoe lukasz", "Straße" → "strasse"."""
    from anyascii import anyascii

    return anyascii(text).lower()


@cache
def _forms() -> tuple[dict[str, str], dict[str, str]]:
    """Every letter by what it folds to: one letter (``l`` ← ``lLłŁ…``), or two (``ss`` ← ``ßẞ``)."""
    single: dict[str, set[str]] = {}
    double: dict[str, set[str]] = {}
    for first, last in _LETTER_RANGES:
        for code in range(first, last):
            char = chr(code)
            if not char.isalpha():
                continue
            folded = fold(char)
            if len(folded) == 1 and folded.isalpha():
                single.setdefault(folded, set()).add(char)
            elif len(folded) == 2 and folded.isalpha():
                double.setdefault(folded, set()).add(char)
    return (
        {base: "".join(sorted(chars | {base, base.upper()})) for base, chars in single.items()},
        {base: "".join(sorted(chars)) for base, chars in double.items()},
    )


def _class(chars: str, *, json_text: bool) -> str:
    body = f"[{chars}]" if len(chars) > 1 else _literal(chars)
    if json_text and any(ord(char) > 127 for char in chars):
        return f"(?:{body}|{_JSON_ESCAPE})"
    return body


def _literal(char: str) -> str:
    return "\\" + char if char in _SPECIAL else char


def _word_pattern(word: str, *, capital: bool = False, json_text: bool = False) -> str:
    """A word as any of its written forms: every letter that folds to the same, ``ss`` or ``ß``…"""
    single, double = _forms()
    folded = fold(word)
    parts = []
    index = 0
    while index < len(folded):
        char = folded[index]
        pair = folded[index : index + 2]
        if not char.isalpha():
            parts.append(_literal(char) if not char.isspace() else r"\s+")
            index += 1
            continue
        first = capital and index == 0
        forms = single.get(char, char + char.upper())
        if first:
            forms = "".join(char for char in forms if not char.islower())
        if pair in double and not first:
            pair_forms = _class(single.get(pair[0], pair[0]), json_text=json_text) + _class(
                single.get(pair[1], pair[1]), json_text=json_text
            )
            parts.append(f"(?:{pair_forms}|{_class(double[pair], json_text=json_text)})")
            index += 2
            continue
        parts.append(_class(forms, json_text=json_text))
        index += 1
    return "".join(parts)


def _name_pattern(words: list[str], *, capital: bool = False, json_text: bool = False) -> str:
    return r"\s+".join(_word_pattern(word, capital=capital, json_text=json_text) for word in words)


def _name_patterns(name: str, *, json_text: bool = False) -> list[str]:
    """A full name in both orders: "Zoë Łukasz", "Łukasz Zoë", "Łukasz, Zoë"."""
    words = name.split()
    patterns = [_name_pattern(words, json_text=json_text)]
    if len(words) > 1:
        patterns.append(
            _word_pattern(words[-1], json_text=json_text) + r",?\s+" + _name_pattern(words[:-1], json_text=json_text)
        )
    return patterns


def _ascii_pattern(text: str) -> str:
    """ASCII text in either case (emails: the database's own case folding is not the same everywhere)."""
    return "".join(
        f"[{char.lower()}{char.upper()}]" if char.isascii() and char.isalpha() else _literal(char) for char in text
    )


def _email_parts(email: str) -> tuple[str, str] | None:
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain:
        return None
    return local.split("+", 1)[0] or local, domain


def _email_pattern(email: str, *, database: bool = False) -> str:
    """The address with any ``+tag`` on its local part."""
    parts = _email_parts(email)
    if parts is None:
        return _ascii_pattern(email) if database else re.escape(email)
    local, domain = parts
    if database:
        return _ascii_pattern(local) + r"(\+[^@ ]*)?@" + _ascii_pattern(domain)
    return re.escape(local) + r"(?:\+[\w.!#$%&'*/=?^`{|}~-]*)?@" + re.escape(domain)


def parse_phone(value: str, region: str = "") -> phonenumbers.PhoneNumber | None:
    """``value`` as a phone number (``region`` reads national forms), or None when it is not one."""
    import phonenumbers

    try:
        number = phonenumbers.parse(value, region or None)
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", value or "")
        if not digits or value.strip()[:1] == "+":
            return None
        try:  # digits without "+" written internationally (4420…), as call logs often keep them
            number = phonenumbers.parse("+" + digits, None)
        except phonenumbers.NumberParseException:
            return None
    return number if phonenumbers.is_possible_number(number) else None


def _same_number(a: phonenumbers.PhoneNumber, b: phonenumbers.PhoneNumber) -> bool:
    return (a.country_code, a.national_number) == (b.country_code, b.national_number)


def _phone_db_pattern(number: phonenumbers.PhoneNumber) -> str:
    """The national significant number's digits with any separators between: every written form holds them."""
    import phonenumbers

    digits = phonenumbers.national_significant_number(number)
    return _PHONE_SEPARATORS.join(digits)


def _alternation(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{pattern})" for pattern in patterns)


class Matcher:
    """Finds and redacts a subject's identifiers in text. ``linked`` says whether the text belongs to a record
    already linked to the person (their own ticket, call, text, request): only there do lone name parts and
    initials count."""

    def __init__(self, subject: Subject, *, linked: bool = False) -> None:
        import phonenumbers

        self.linked = linked
        self._emails = sorted(subject.identifiers("email"), key=len, reverse=True)
        names = sorted(
            (name for name in subject.identifiers("name") if len(fold(name).strip()) >= MIN_NAME_LENGTH),
            key=len,
            reverse=True,
        )
        self._numbers: list[phonenumbers.PhoneNumber] = []
        for phone in subject.identifiers("phone"):
            number = parse_phone(phone, subject.country)
            if number is not None and not any(_same_number(number, known) for known in self._numbers):
                self._numbers.append(number)
        self._regions = sorted(
            {subject.country, *(phonenumbers.region_code_for_number(number) or "" for number in self._numbers)} - {""}
        ) or [""]
        parts: set[str] = set()
        initials: list[str] = []
        self._given: set[str] = set()
        self._family: set[str] = set()
        if linked:
            for name in names:
                words = name.split()
                parts.update(word for word in words if len(fold(word)) >= MIN_NAME_LENGTH and word != name)
                if len(words) > 1:
                    self._given.update(fold(word) for word in words[:-1])
                    self._family.add(fold(words[-1]))
                    initials.append(
                        _word_pattern(words[0][0], capital=True) + r"\.?\s*" + _word_pattern(words[-1], capital=True)
                    )
        self._parts = {fold(part) for part in parts}
        self._names = names
        self._lone_parts = sorted(parts, key=len, reverse=True)
        text_patterns = [
            *(_email_pattern(email) for email in self._emails),
            *(pattern for name in names for pattern in _name_patterns(name)),
            *initials,
        ]
        lone = [_name_pattern([part], capital=True) for part in self._lone_parts]
        self._full = (
            re.compile(rf"(?<![\w.+@-])(?:{_alternation(text_patterns)})(?![\w@]|[.-]\w)", re.IGNORECASE)
            if text_patterns
            else None
        )
        self._lone = re.compile(rf"(?<![\w@])(?:{_alternation(lone)})(?!\w)") if lone else None
        #: The pattern the database runs to narrow rows: a superset of what :meth:`redact` changes.
        self.db_pattern = self._db_pattern(json_text=False)
        #: The same over JSON text, where SQLite keeps non-ASCII letters escaped.
        self.db_json_pattern = self._db_pattern(json_text=True)

    def _db_pattern(self, *, json_text: bool) -> str:
        patterns = [
            *(_email_pattern(email, database=True) for email in self._emails),
            *(_phone_db_pattern(number) for number in self._numbers),
            *(pattern for name in self._names for pattern in _name_patterns(name, json_text=json_text)),
            *(_name_pattern([part], json_text=json_text) for part in self._lone_parts),
        ]
        return _alternation(patterns)

    def __bool__(self) -> bool:
        return bool(self.db_pattern)

    # Phones -----------------------------------------------------------------------------------------

    def is_phone(self, value: str) -> bool:
        """Whether ``value``, a stored phone (any format), is one of the subject's numbers."""
        if not value or not self._numbers:
            return False
        return any(
            number is not None and any(_same_number(number, known) for known in self._numbers)
            for number in (parse_phone(value, region) for region in self._regions)
        )

    def _phone_spans(self, text: str) -> Iterator[tuple[int, int]]:
        if not self._numbers:
            return
        import phonenumbers

        for region in self._regions:
            for match in phonenumbers.PhoneNumberMatcher(text, region or None, leniency=phonenumbers.Leniency.POSSIBLE):
                if any(_same_number(match.number, known) for known in self._numbers):
                    yield match.start, match.end

    # Free text --------------------------------------------------------------------------------------

    def _spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, identifier kind) of every identifier in ``text``, not overlapping, in order."""
        found: list[tuple[int, int, str]] = []
        if self._full is not None:
            for match in self._full.finditer(text):
                found.append((match.start(), match.end(), "email" if "@" in match.group() else "name"))
        found.extend((start, end, "phone") for start, end in self._phone_spans(text))
        if self._lone is not None:
            addresses = [match.span() for match in _EMAIL.finditer(text)]
            for match in self._lone.finditer(text):
                start, end = match.span()
                if any(first <= start and end <= last for first, last in addresses):
                    continue  # inside someone's email address
                if not self._someone_else(text, match):
                    found.append((start, end, "name"))
        spans: list[tuple[int, int, str]] = []
        for start, end, kind in sorted(found, key=lambda span: (span[0], -span[1])):
            if spans and start < spans[-1][1]:
                continue
            spans.append((start, end, kind))
        return spans

    def redact(self, text: str) -> str:
        """``text`` with every identifier replaced by ``[redacted]``; unchanged when it names no one here."""
        if not text or not isinstance(text, str):
            return text
        spans = self._spans(text)
        if not spans:
            return text
        pieces, last = [], 0
        for start, end, _ in spans:
            pieces += [text[last:start], REDACTED]
            last = end
        pieces.append(text[last:])
        return "".join(pieces)

    def kinds(self, text: str) -> set[str]:
        """Which identifiers (``email``, ``phone``, ``name``) ``text`` holds; empty when none."""
        if not text or not isinstance(text, str):
            return set()
        return {kind for _, _, kind in self._spans(text)}

    def mentions(self, text: str) -> bool:
        return bool(self.kinds(text))

    def _someone_else(self, text: str, match: re.Match[str]) -> bool:
        """Whether a lone name part is part of another person's full name: a surname after a capitalised word
        that is not one of the subject's names nor a salutation ("Erik Hansen"), or a given name before one
        ("Bill Gates")."""
        part = fold(match.group())
        before = _WORD_BEFORE.search(text, 0, match.start())
        after = _WORD_AFTER.match(text, match.end())

        def other_name(found: re.Match[str] | None) -> bool:
            if found is None:
                return False
            word = found.group(1)
            return word[:1].isupper() and fold(word) not in self._parts and fold(word) not in _SALUTATIONS

        if part in self._family and part not in self._given and other_name(before):
            return True
        return part in self._given and part not in self._family and other_name(after)

    # Values of any shape ----------------------------------------------------------------------------

    def redact_value(self, value: Any) -> Any:
        """A JSON value with every string in it redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {key: self.redact_value(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.redact_value(item) for item in value]
        return value

    def value_kinds(self, value: Any) -> set[str]:
        """Which identifiers a value of any shape (text, JSON, JSON text) holds."""
        if isinstance(value, str):
            return self.kinds(value)
        if isinstance(value, dict):
            return set().union(*(self.value_kinds(item) for item in value.values()), set())
        if isinstance(value, list):
            return set().union(*(self.value_kinds(item) for item in value), set())
        return set()

    # The database ------------------------------------------------------------------------------------

    def q(self, *fields: str, json_text: bool = False) -> Q:
        """Rows whose ``fields`` may mention the subject (a superset: :meth:`redact` decides)."""
        pattern = self.db_json_pattern if json_text else self.db_pattern
        condition = Q(pk__in=[])
        if not pattern:
            return condition
        for name in fields:
            condition |= Q(**{f"{name}__regex": pattern})
        return condition

    def phone_q(self, *fields: str) -> Q:
        """Rows whose phone ``fields`` may hold one of the subject's numbers (a superset: :meth:`is_phone`
        decides)."""
        condition = Q(pk__in=[])
        if not self._numbers:
            return condition
        pattern = _alternation(_phone_db_pattern(number) for number in self._numbers)
        for name in fields:
            condition |= Q(**{f"{name}__regex": pattern})
        return condition

    def stored_phones(self, rows: Any, *fields: str) -> list[str]:
        """Every value ``fields`` of ``rows`` hold that is one of the subject's numbers, exactly as stored: what
        an ``__in`` then finds set-based, whatever format each row was written in. One query."""
        values: set[str] = set()
        if self._numbers:
            for found in rows.filter(self.phone_q(*fields)).order_by().values_list(*fields).distinct():
                values.update(value for value in found if self.is_phone(value))
        # The E.164 forms too: a row written after this read is still found in that form.
        import phonenumbers

        values.update(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) for number in self._numbers)
        return sorted(values)


def json_value(value: Any) -> Any:
    """A JSON column's value as Python (a database may hand back its text)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def redact_rows(
    rows: Any, fields: Iterable[str], matcher: Matcher, *, theirs: Matcher | None = None, is_theirs: Any = None
) -> list[Any]:
    """The rows of ``rows`` whose ``fields`` name the subject, redacted (unsaved): read by the database's
    pattern, redacted in Python with ``matcher``, or ``theirs`` for rows ``is_theirs(row)`` says are linked
    to the person. Only rows whose text really changed are returned."""
    fields = list(fields)
    wide = theirs or matcher
    changed = []
    for row in rows.filter(wide.q(*fields)):
        use = theirs if theirs is not None and is_theirs(row) else matcher
        before = [getattr(row, name) for name in fields]
        for name in fields:
            setattr(row, name, use.redact(getattr(row, name)))
        if [getattr(row, name) for name in fields] != before:
            changed.append(row)
    return changed
