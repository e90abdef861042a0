"""What a data subject receives, in their words and their language: every email, the access report and the
archive's README name categories and purposes from the catalog, label fields as the sources do, write dates
as the language does, and carry no internal code."""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client

from dsar import services
from dsar.models import Request
from dsar.report import access_report_html, request_access_report
from dsar.sources import catalog_category, registered_sources
from residency.models import DataCategory
from tests.dsar.factories import CaptureOnCommit, PersonFactory, make_request, staff
from tests.factories import AccountFactory, region

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "sv", "fr")
#: A phrase each language's letters open with, and the access report's title: proof of the language.
HELLO = {"en": "Hello,", "sv": "Hej,", "fr": "Bonjour,"}
TITLE = {"en": "Your personal data", "sv": "Dina personuppgifter", "fr": "Vos données à caractère personnel"}
#: Purposes of the categories these letters touch, as the catalog states them and as the .po files translate them.
PURPOSE = {
    "requester": {
        "en": "Identifying and contacting the requester",
        "sv": "Att identifiera och kontakta förfrågaren",
        "fr": "Identifier et contacter le demandeur",
    },
    "call-data": {
        "en": "Running the contact center",
        "sv": "Att driva kontaktcentret",
        "fr": "Faire fonctionner le centre de contact",
    },
}
NAME = {
    "call-data": {"en": "Call data", "sv": "Samtalsdata", "fr": "Données des appels"},
    "requester": {
        "en": "Requester and contact data",
        "sv": "Förfrågar- och kontaktuppgifter",
        "fr": "Données des demandeurs et des contacts",
    },
}

# Internal codes: ``history:ticket``, ``call-data:x`` (a time such as 17:16 is no code); snake_case field
# names; ISO timestamps (with or without microseconds). Links are left out: a signed token is no wording.
CODE = re.compile(r"\b[A-Za-z][\w-]*:[A-Za-z_][\w-]*")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
INTERNAL = ("call-data", "call-analytics", "gdpr", "uk-gdpr", "analyticsrow", "end_user")


def words_of(text: str) -> str:
    return re.sub(r"https?://\S+|\S+@\S+", "", text)


def assert_plain(text: str) -> None:
    text = words_of(text)
    assert not CODE.findall(text), CODE.findall(text)
    assert not SNAKE.findall(text), SNAKE.findall(text)
    assert not ISO.findall(text), ISO.findall(text)
    assert not [code for code in INTERNAL if re.search(rf"(?<![\w.-]){re.escape(code)}(?![\w-])", text)], text


@pytest.fixture(autouse=True)
def frozen(time_machine: Any) -> None:
    time_machine.move_to(dt.datetime(2026, 12, 2, 17, 16, 1, 527694, tzinfo=dt.timezone.utc), tick=False)


def person_in(language: str, **fields: Any) -> Any:
    account = AccountFactory(name="Nordkust Support AB", home_region=region("EEA"), products=["freshdesk"])
    return PersonFactory(account=account, email=f"maja.{language}@example.org", phone="+46705550177", **fields)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_code_email_names_the_company_says_what_to_do_by_when_and_to_ignore_it_if_not_asked(
    language: str, django_capture_on_commit_callbacks: CaptureOnCommit, settings: Any
) -> None:
    settings.DSAR_CODE_TTL_MINUTES = 15
    person = person_in(language)
    with django_capture_on_commit_callbacks(execute=True):
        request = make_request(person, type=Request.Type.ACCESS, verified=False, language=language)
    (message,) = mail.outbox
    assert message.subject.startswith("Nordkust Support AB")
    body = message.body
    assert HELLO[language] in body and "Nordkust Support AB" in body
    assert re.search(r"\b\d{6}\b", body)
    # By when: the minutes and the hour, in the account's time zone (Stockholm: 18:16 + 15 minutes).
    until = {"en": "6:31 p.m.", "sv": "18:31", "fr": "18:31"}[language]
    assert until in body, body
    ignore = {"en": "ignore this message", "sv": "bortse från det här meddelandet", "fr": "ignorez ce message"}
    assert ignore[language] in body
    assert f"{request.pk}" in body
    assert_plain(message.subject + body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_extension_and_rejection_letters_are_in_the_requests_language(
    language: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    request = make_request(person_in(language), type=Request.Type.ACCESS, language=language)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_extend(request=request, reason="Records are spread over four products.")
    with django_capture_on_commit_callbacks(execute=True):
        services.request_reject(
            request=request, reason="The request repeats one answered last week.", denial_reason="too_many_requests"
        )
    extension, rejection = mail.outbox
    law = {"en": "The GDPR (EU)", "sv": "Dataskyddsförordningen (GDPR, EU)", "fr": "Le RGPD (UE)"}
    assert law[language] in extension.body
    due = {"en": "March 2, 2027", "sv": "2 mars 2027", "fr": "2 mars 2027"}
    assert due[language] in extension.body, extension.body
    complain = {"en": "supervisory authority", "sv": "Integritetsskyddsmyndigheten", "fr": "CNIL"}
    assert complain[language] in rejection.body
    for message in (extension, rejection):
        assert HELLO[language] in message.body and "Nordkust Support AB" in message.subject
        assert_plain(message.subject + message.body)


#: The sentence each denial reason reads as, in Swedish and French (dsar.letters.DENIAL_REASONS).
DENIAL_SENTENCES = {
    "suspected_fraud": {
        "sv": "Vi har anledning att tro att begäran inte gjordes av dig eller för din räkning.",
        "fr": "Nous avons des raisons de penser que la demande n’a pas été faite par vous ni en votre nom.",
    },
    "insuf_verification": {
        "sv": "Vi kunde inte bekräfta att du är den person vars uppgifter begäran gäller.",
        "fr": "Nous n’avons pas pu confirmer que vous êtes la personne dont les données sont concernées par la demande.",
    },
    "no_match": {
        "sv": "Vi hittade inga personuppgifter om dig.",
        "fr": "Nous n’avons trouvé aucune donnée à caractère personnel vous concernant.",
    },
    "claim_not_covered": {
        "sv": "Lagen ger dig inte den rättighet du ville utöva i det här fallet.",
        "fr": "La loi ne vous donne pas, dans ce cas, le droit que vous avez demandé à exercer.",
    },
    "outside_jurisdiction": {
        "sv": "Den lag som du gjorde begäran enligt gäller inte dig eller de uppgifter vi har om dig.",
        "fr": "La loi au titre de laquelle vous avez fait la demande ne s’applique ni à vous ni aux données que nous "
        "détenons à votre sujet.",
    },
    "too_many_requests": {
        "sv": "Du har gjort fler begäranden än lagen kräver att vi besvarar under den här perioden.",
        "fr": "Vous avez fait plus de demandes que la loi ne nous oblige à en traiter sur cette période.",
    },
    "other": {"sv": "Av skälet nedan.", "fr": "Pour la raison indiquée ci-dessous."},
}


def test_every_denial_reason_has_its_sentence_here() -> None:
    assert set(DENIAL_SENTENCES) == set(Request.DenialReason.values)


@pytest.mark.parametrize("language", ["sv", "fr"])
@pytest.mark.parametrize("denial_reason", sorted(DENIAL_SENTENCES))
def test_the_rejection_letter_states_the_denial_reason_in_plain_words_then_the_staffs_words(
    language: str, denial_reason: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    request = make_request(person_in(language), type=Request.Type.ERASURE, language=language)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_reject(request=request, reason="Ärende 2211.", denial_reason=denial_reason)
    (letter,) = mail.outbox
    why = {"sv": "Varför:", "fr": "Pourquoi\u00a0:"}[language]
    assert f"{why} {DENIAL_SENTENCES[denial_reason][language]}\n\nÄrende 2211." in letter.body, letter.body
    assert denial_reason not in letter.body
    assert_plain(letter.subject + letter.body)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_portability_email_and_the_archives_readme_are_in_the_requests_language(
    language: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    request = make_request(person_in(language), type=Request.Type.PORTABILITY, language=language)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request)
    (message,) = mail.outbox
    assert HELLO[language] in message.body
    assert_plain(message.subject + message.body)
    link = re.search(r"https://privacy\.example\.com(\S+)", message.body).group(1)
    archive = zipfile.ZipFile(io.BytesIO(b"".join(Client().get(link).streaming_content)))
    readme = archive.read("README.txt").decode()
    assert NAME["requester"][language] in readme and PURPOSE["requester"][language] in readme
    assert_plain(readme.replace("requester.csv", "").replace("data.json", ""))
    header = archive.read("requester.csv").decode().splitlines()[0]
    assert {"en": "Phone number", "sv": "Telefonnummer", "fr": "Numéro de téléphone"}[language] in header


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_data_letter_after_a_rectification_labels_each_field(
    language: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    request = make_request(person_in(language, name="Maja Holm"), type=Request.Type.RECTIFICATION, language=language)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.person_send_data(request=request)
    (message,) = mail.outbox
    label = {"en": "Your ID in the support product", "sv": "Ditt ID i supportprodukten", "fr": "Votre identifiant"}
    assert label[language] in message.body and "Maja Holm" in message.body
    assert_plain(message.subject + message.body)


@pytest.mark.every_source
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_erasure_letter_says_each_category_once_with_its_purposes_and_what_is_kept_and_why(
    language: str, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    from tests.recordings.factories import AnalyticsRowFactory, CallFactory

    person = person_in(language)
    account = person.account
    account.products.add(*__import__("residency.models", fromlist=["Product"]).Product.objects.filter(
        slug="freshdesk-contact-center"
    ))
    kept = CallFactory(account=account, line__account=account, end_user=person, transferred_external=True)
    AnalyticsRowFactory(call=kept)
    CallFactory(account=account, line__account=account, end_user=person)
    request = make_request(person, language=language)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_execute(request=request, actor=staff())
    told = [message for message in mail.outbox if message.to == [person.email]]
    (message,) = told
    body = message.body
    assert HELLO[language] in body
    erased, _, rest = body.partition({"en": "What we keep", "sv": "Vad vi sparar", "fr": "Ce que nous conservons"}[language])
    for slug in ("call-data", "requester"):
        assert erased.count(NAME[slug][language]) == 1, erased
        assert PURPOSE[slug][language] in erased
    # The analytics numbers kept unlinked: said once, with why and where, not again among the copies.
    analytics = {"en": "Phone numbers in the analytics", "sv": "Telefonnummer i statistiken", "fr": "numéros de téléphone"}
    assert body.lower().count(analytics[language].lower()) == 1
    region = {"en": "European Economic Area", "sv": "Europeiska ekonomiska samarbetsområdet", "fr": "Espace économique européen"}
    assert region[language] in rest
    assert_plain(message.subject + body)


@pytest.mark.every_source
@pytest.mark.parametrize("language", LANGUAGES)
def test_the_access_report_the_person_receives_is_in_their_language_with_labels_and_purposes(language: str) -> None:
    from tests.recordings.factories import CallFactory

    person = person_in(language)
    person.objected_to_marketing_at = dt.datetime(2026, 12, 2, 17, 16, 1, 527694, tzinfo=dt.timezone.utc)
    person.save()
    # Call data, though the account's products do not list it: its purposes still come from the catalog.
    CallFactory(account=person.account, line__account=person.account, end_user=person)
    request = make_request(person, type=Request.Type.ACCESS, language=language)

    html = access_report_html(request=request, report=request_access_report(request=request))

    text = re.sub(r"<[^>]+>", " ", re.sub(r"<style>.*?</style>", "", html, flags=re.S))
    assert TITLE[language] in text and f'lang="{language}"' in html
    for slug in ("call-data", "requester"):
        assert NAME[slug][language] in text and PURPOSE[slug][language] in text
    assert {"en": "From number", "sv": "Från nummer", "fr": "Numéro de l’appelant"}[language] in text
    assert {"en": "Dec. 2, 2026", "sv": "2 december 2026", "fr": "2 décembre 2026"}[language] in text
    assert_plain(text)


def test_the_consoles_access_report_shows_the_same_labels(admin_client: Client) -> None:
    request = make_request(person_in("en"), type=Request.Type.ACCESS)
    page = admin_client.get(f"/admin/dsar/request/{request.pk}/report/").content.decode()
    assert "Objected to marketing on" in page and "Phone number" in page
    assert "objected_to_marketing_at" not in page and "FROM_NUMBER" not in page.upper().replace("FROM NUMBER", "")


def test_a_requests_language_defaults_to_its_accounts_country_and_an_unknown_one_is_refused() -> None:
    swedish = AccountFactory(country="SE")
    assert make_request(PersonFactory(account=swedish), verified=False).language == "sv"
    assert make_request(PersonFactory(account=AccountFactory(country="FR")), verified=False).language == "fr"
    assert make_request(PersonFactory(), verified=False).language == "en"
    assert make_request(PersonFactory(account=swedish), verified=False, language="fr").language == "fr"
    with pytest.raises(ValidationError) as refused:
        make_request(PersonFactory(), verified=False, language="de")
    assert "language" in refused.value.message_dict and "en, sv, fr" in refused.value.message_dict["language"][0]


# --- the translation catalogs -----------------------------------------------------------------------


def _compiled(language: str) -> dict[Any, Any]:
    return gettext.translation("django", localedir=settings.LOCALE_PATHS[0], languages=[language])._catalog  # type: ignore[attr-defined]


def _po_entries(language: str) -> dict[str, str]:
    """msgid → its (first) msgstr, read from the .po file (msgctxt joined as gettext does)."""
    entries: dict[str, str] = {}
    text = (Path(settings.LOCALE_PATHS[0]) / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            msgid = fields["msgid"].encode().decode("unicode_escape").encode("latin-1").decode()
            if "msgctxt" in fields:
                msgid = f"{fields['msgctxt']}\x04{msgid}"
            entries[msgid] = fields.get("msgstr", fields.get("msgstr[0]", ""))
    return entries


@pytest.mark.parametrize("language", ["sv", "fr"])
def test_the_compiled_catalogs_hold_every_translation_of_the_po_files(language: str) -> None:
    compiled = _compiled(language)
    for msgid in _po_entries(language):
        assert msgid in compiled or (msgid, 0) in compiled, f"{language}: {msgid!r} is not compiled (run compilemessages)"


@pytest.mark.parametrize("language", ["sv", "fr"])
def test_every_category_purpose_and_region_of_the_catalog_has_its_words_in_each_language(language: str) -> None:
    catalog = tomllib.loads((Path(settings.BASE_DIR) / "residency" / "catalog" / "catalog.toml").read_text())
    compiled = _compiled(language)
    words = [category["name"] for category in catalog["categories"]]
    words += [purpose for category in catalog["categories"] for purpose in category["purposes"]]
    words += [item["name"] for item in catalog["regions"]] + [item["purpose"] for item in catalog["sub_processors"]]
    assert not [word for word in words if not compiled.get(word)]


@pytest.mark.every_source
def test_every_category_a_source_reports_is_a_catalog_category_stating_its_purposes() -> None:
    from dsar.sources import Subject

    person = PersonFactory()
    subject = Subject(person_id=person.pk, account_id=person.account_id)
    reported = {
        (source, category)
        for source in registered_sources()
        for category in [*source.export(subject), *getattr(source, "catalog_categories", {})]
    }
    reported |= {(source, category) for source in registered_sources() if source.key == "dsar.person" for category in ("requester", "agent-user")}
    purposes = dict(DataCategory.objects.values_list("slug", "purposes"))
    assert reported
    assert not [(source.key, category) for source, category in reported if not purposes.get(catalog_category(source, category))]


def test_the_catalogs_words_marked_for_translation_are_exactly_those_of_the_catalog_file() -> None:
    from residency.catalog.words import WORDS

    catalog = tomllib.loads((Path(settings.BASE_DIR) / "residency" / "catalog" / "catalog.toml").read_text())
    words = [category["name"] for category in catalog["categories"]]
    words += [purpose for category in catalog["categories"] for purpose in category["purposes"]]
    words += [item["name"] for item in catalog["regions"]] + [item["purpose"] for item in catalog["sub_processors"]]
    assert set(WORDS) == set(words)


def test_french_letters_keep_the_space_before_a_colon_unbroken(django_capture_on_commit_callbacks: CaptureOnCommit) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        make_request(person_in("fr"), type=Request.Type.ACCESS, verified=False, language="fr")
    (message,) = mail.outbox

    text = message.subject + message.body
    assert "Nordkust Support AB\u00a0: votre code" in message.subject
    assert not re.search(r" [:;?!]", text), re.findall(r".{20} [:;?!]", text)
