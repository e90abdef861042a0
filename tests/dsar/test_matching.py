"""The near-miss corpus: what erasure redacts in free text, and what it must leave alone."""

from __future__ import annotations

import pytest

from dsar.matching import REDACTED, Matcher
from dsar.sources import Subject

BILL = Subject(
    person_id=1,
    account_id=1,
    name="Bill Hansen",
    email="Bill@Example.net",
    phone="+46701234567",
    former_emails=("bill.old@example.net",),
    former_phones=("0046 70 765 43 21",),
)
JOSE = Subject(person_id=2, account_id=1, name="José Núñez", email="jose.nunez@example.es")
R = REDACTED

# (text, redacted in a record not linked to the person, redacted in one linked to them)
CORPUS = [
    # Same surname, another person.
    ("Erik Hansen in finance", "Erik Hansen in finance", "Erik Hansen in finance"),
    ("Ask Mrs Hansen about it", "Ask Mrs Hansen about it", f"Ask Mrs {R} about it"),
    # A name that is also a common word.
    # In the person's own records a capitalised "Bill" is taken for them: their records keep no trace of them.
    ("Wrong Bill amount", "Wrong Bill amount", f"Wrong {R} amount"),
    ("The bill was paid twice", "The bill was paid twice", "The bill was paid twice"),
    ("Bill Gates called", "Bill Gates called", "Bill Gates called"),
    ("Hi Bill, your refund is on its way", "Hi Bill, your refund is on its way", f"Hi {R}, your refund is on its way"),
    # The full name, in any case and spacing.
    ("Bill Hansen called", f"{R} called", f"{R} called"),
    ("BILL  HANSEN called", f"{R} called", f"{R} called"),
    ("bill\nhansen", R, R),
    ("Billy Hansenberg is another person", "Billy Hansenberg is another person", "Billy Hansenberg is another person"),
    # Names inside other people's email addresses.
    ("cc bill.hansen@other.org", "cc bill.hansen@other.org", "cc bill.hansen@other.org"),
    ("cc erik.hansen@example.net and billhansen@example.net", "cc erik.hansen@example.net and billhansen@example.net", "cc erik.hansen@example.net and billhansen@example.net"),
    # Emails: whole addresses, any case, earlier ones too.
    ("Reply to bill@example.net.", f"Reply to {R}.", f"Reply to {R}."),
    ("Reply to BILL@EXAMPLE.NET", f"Reply to {R}", f"Reply to {R}"),
    ("Old address bill.old@example.net", f"Old address {R}", f"Old address {R}"),
    ("mybill@example.net is not his", "mybill@example.net is not his", "mybill@example.net is not his"),
    ("bill@example.net.au is not his", "bill@example.net.au is not his", "bill@example.net.au is not his"),
    # Phones as people write them, earlier ones too; never inside a longer number.
    ("Call +46 70-123 45 67 back", f"Call {R} back", f"Call {R} back"),
    ("Call 0046701234567", f"Call {R}", f"Call {R}"),
    ("Old number +46707654321", f"Old number {R}", f"Old number {R}"),
    ("Order +467012345678 shipped", "Order +467012345678 shipped", "Order +467012345678 shipped"),
    ("Not his: +46701234568", "Not his: +46701234568", "Not his: +46701234568"),
]

JOSE_CORPUS = [
    ("José Núñez wrote", f"{R} wrote", f"{R} wrote"),
    ("JOSÉ NÚÑEZ wrote", f"{R} wrote", f"{R} wrote"),
    ("Jose Nunez wrote", f"{R} wrote", f"{R} wrote"),
    ("Merci Núñez", "Merci Núñez", f"Merci {R}"),  # "Merci" is not a name: the surname alone is his
    ("Ana Núñez is his sister", "Ana Núñez is his sister", "Ana Núñez is his sister"),
    ("jose.garcia@example.es asked", "jose.garcia@example.es asked", "jose.garcia@example.es asked"),
    ("JOSE.NUNEZ@EXAMPLE.ES asked", f"{R} asked", f"{R} asked"),
]


@pytest.mark.parametrize(("subject", "text", "unlinked", "linked"), [(BILL, *case) for case in CORPUS] + [(JOSE, *case) for case in JOSE_CORPUS])
def test_the_corpus_is_redacted_exactly(subject: Subject, text: str, unlinked: str, linked: str) -> None:
    assert Matcher(subject).redact(text) == unlinked
    assert Matcher(subject, linked=True).redact(text) == linked


def test_the_corpus_has_no_false_redactions_and_no_misses() -> None:
    false_redactions = misses = 0
    for subject, corpus in ((BILL, CORPUS), (JOSE, JOSE_CORPUS)):
        for linked in (False, True):
            matcher = Matcher(subject, linked=linked)
            for text, *expected in corpus:
                got = matcher.redact(text)
                want = expected[1] if linked else expected[0]
                false_redactions += got.count(R) > want.count(R)
                misses += got.count(R) < want.count(R)
    assert (false_redactions, misses) == (0, 0)


def test_a_person_with_no_identifiers_matches_nothing() -> None:
    matcher = Matcher(Subject(person_id=3, account_id=1, name="Al"), linked=True)

    assert not matcher
    assert matcher.redact("Al called") == "Al called"
