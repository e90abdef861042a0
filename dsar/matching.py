"""Finding a person's identifiers in free text, precisely: the one place that decides what "mentions the
person" means, for redaction (tickets, texts, timelines, history) and for narrowing rows in the database.

- An email matches as a whole address, in any case: ``bill@example.net`` is not inside ``mybill@example.net``
  nor ``bill@example.net.au``.
- A phone matches in E.164 and as people write it: ``+46 70-123 45 67``, ``0046701234567``, ``46701234567``;
  never inside a longer number.
- A full name matches as whole words anywhere, in any case, with or without its accents (``José Núñez``,
  ``JOSE NUNEZ``), across any spacing.
- A lone first or last name matches only in records already linked to the person (``linked=True``), written as
  a name (capitalised), and never inside an email address: "Erik Hansen in finance" is someone else's ticket,
  "your bill" is a word, and ``erik.hansen@example.com`` is someone else's address.

Patterns are built from explicit character classes (both cases, every accented form of each letter), so the
same pattern text runs in Python, in SQLite (whose REGEXP Django implements with Python's ``re``) and in
PostgreSQL's regular expressions, without relying on the database's case folding.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import Any

from django.db.models import Q

from dsar.sources import Subject

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


def _base(char: str) -> str:
    """The letter under its accents, in lower case: "É" → "e"."""
    return unicodedata.normalize("NFKD", char)[0].lower()


def _fold(word: str) -> str:
    return "".join(_base(char) for char in word)


@cache
def _variants() -> dict[str, str]:
    """For each base letter, every Latin letter written on it, in both cases."""
    table: dict[str, set[str]] = {}
    for code in range(0x41, 0x250):
        char = chr(code)
        if char.isalpha():
            table.setdefault(_base(char), set()).update({char, char.lower(), char.upper()})
    return {base: "".join(sorted(chars)) for base, chars in table.items()}


def _letter(char: str, *, capital: bool = False) -> str:
    """A character class for ``char``: every accented form, in both cases (upper case only if ``capital``)."""
    forms = _variants().get(_base(char), char.lower() + char.upper())
    if capital:
        forms = "".join(sorted({form for form in forms if not form.islower()}))
    return f"[{forms}]" if len(forms) > 1 else forms


def _literal(char: str) -> str:
    return "\\" + char if char in _SPECIAL else char


def _name_pattern(name: str, *, capital: bool = False) -> str:
    parts = []
    for word in name.split():
        letters = [
            _letter(char, capital=capital and index == 0) if char.isalpha() else _literal(char)
            for index, char in enumerate(word)
        ]
        parts.append("".join(letters))
    return r"\s+".join(parts)


def _email_pattern(email: str) -> str:
    return "".join(_letter(char) if char.isalpha() else _literal(char) for char in email)


def _phone_pattern(phone: str) -> str:
    digits = phone.lstrip("+")
    return r"(?:\+|00)?" + _PHONE_SEPARATORS.join(digits)


def _alternation(patterns: Iterable[str]) -> str:
    return "|".join(f"(?:{pattern})" for pattern in patterns)


class Matcher:
    """Finds and redacts a subject's identifiers in text. ``linked`` says whether the text belongs to a record
    already linked to the person (their own ticket, call, text, request): only there do lone name parts count.
    """

    def __init__(self, subject: Subject, *, linked: bool = False) -> None:
        emails = sorted(subject.identifiers("email"), key=len, reverse=True)
        phones = sorted(subject.identifiers("phone"), key=len, reverse=True)
        names = sorted((name for name in subject.identifiers("name") if len(name) >= MIN_NAME_LENGTH), key=len, reverse=True)
        parts: set[str] = set()
        self._given: set[str] = set()
        self._family: set[str] = set()
        if linked:
            for name in names:
                words = name.split()
                parts.update(word for word in words if len(word) >= MIN_NAME_LENGTH and word != name)
                if len(words) > 1:
                    self._given.update(_fold(word) for word in words[:-1])
                    self._family.add(_fold(words[-1]))
        self._parts = {_fold(part) for part in parts}
        self.linked = linked
        full = [
            *(_email_pattern(email) for email in emails),
            *(_phone_pattern(phone) for phone in phones),
            *(_name_pattern(name) for name in names),
        ]
        lone = [_name_pattern(part, capital=True) for part in sorted(parts, key=len, reverse=True)]
        #: The pattern text the database runs to narrow rows: a superset of what redaction changes.
        self.db_pattern = _alternation(full + lone)
        self._full = re.compile(rf"(?<![\w.+@-])(?:{_alternation(full)})(?![\w@]|[.-]\w)") if full else None
        self._lone = re.compile(rf"(?<![\w@])(?:{_alternation(lone)})(?!\w)") if lone else None

    def __bool__(self) -> bool:
        return bool(self.db_pattern)

    def redact(self, text: str) -> str:
        """``text`` with every identifier replaced by ``[redacted]``; unchanged when it names no one here."""
        if not text:
            return text
        if self._full is not None:
            text = self._full.sub(REDACTED, text)
        if self._lone is not None:
            addresses = [match.span() for match in _EMAIL.finditer(text)]
            original = text

            def redact_part(match: re.Match[str]) -> str:
                start, end = match.span()
                if any(first <= start and end <= last for first, last in addresses):
                    return match.group()  # inside someone's email address
                return match.group() if self._someone_else(original, match) else REDACTED

            text = self._lone.sub(redact_part, text)
        return text

    def _someone_else(self, text: str, match: re.Match[str]) -> bool:
        """Whether a lone name part is part of another person's full name: a surname after a capitalised word
        that is not one of the subject's names nor a salutation ("Erik Hansen"), or a given name before one
        ("Bill Gates")."""
        part = _fold(match.group())
        before = _WORD_BEFORE.search(text, 0, match.start())
        after = _WORD_AFTER.match(text, match.end())

        def other_name(found: re.Match[str] | None) -> bool:
            if found is None:
                return False
            word = found.group(1)
            return word[:1].isupper() and _fold(word) not in self._parts and _fold(word) not in _SALUTATIONS

        if part in self._family and part not in self._given and other_name(before):
            return True
        return part in self._given and part not in self._family and other_name(after)

    def mentions(self, text: str) -> bool:
        return bool(text) and self.redact(text) != text

    def q(self, *fields: str) -> Q:
        """Rows whose ``fields`` may mention the subject (a superset: :meth:`redact` decides)."""
        if not self.db_pattern:
            return Q(pk__in=[])
        condition = Q(pk__in=[])
        for name in fields:
            condition |= Q(**{f"{name}__regex": self.db_pattern})
        return condition


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
