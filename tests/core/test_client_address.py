"""The client's address: X-Forwarded-For is believed only as far as trusted proxies wrote it."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.test import RequestFactory
from rest_framework.request import Request

from core.api.throttling import ApiKeyRateThrottle, IntakeRateThrottle, UserRateThrottle
from core.client_address import client_address


@pytest.fixture(autouse=True)
def proxies(settings: Any) -> None:
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("fd00::/8")]


def address(peer: str, forwarded_for: str | None = None) -> str | None:
    extra = {} if forwarded_for is None else {"HTTP_X_FORWARDED_FOR": forwarded_for}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=peer, **extra))


def test_without_a_proxy_the_peer_is_the_client() -> None:
    assert address("198.51.100.4") == "198.51.100.4"


def test_a_peer_that_is_not_a_trusted_proxy_is_the_client_whatever_it_forwards() -> None:
    assert address("203.0.113.9", "198.51.100.4") == "203.0.113.9"


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client() -> None:
    assert address("10.0.0.5", "198.51.100.4") == "198.51.100.4"


def test_entries_the_client_wrote_before_the_proxys_are_ignored() -> None:
    assert address("10.0.0.5", "192.0.2.1, 198.51.100.4") == "198.51.100.4"


def test_a_chain_of_trusted_proxies_is_walked_back_to_the_first_untrusted_address() -> None:
    assert address("10.0.0.5", "192.0.2.1, 198.51.100.4, 10.0.0.7") == "198.51.100.4"


def test_a_garbage_entry_leaves_the_proxy_that_passed_it_on_as_the_client() -> None:
    assert address("10.0.0.5", "198.51.100.4, unknown") == "10.0.0.5"


def test_garbage_the_client_wrote_further_left_changes_nothing() -> None:
    assert address("10.0.0.5", "unknown, 198.51.100.4") == "198.51.100.4"


def test_ports_brackets_and_ipv6_proxies_are_understood() -> None:
    assert address("fd00::1", "198.51.100.4:51234") == "198.51.100.4"
    assert address("::ffff:10.0.0.5", "[2001:db8::7]:443") == "2001:db8::7"


def test_no_trusted_proxy_means_no_header_is_believed(settings: Any) -> None:
    settings.TRUSTED_PROXIES = []

    assert address("10.0.0.5", "198.51.100.4") == "10.0.0.5"


@pytest.mark.parametrize("throttle", [ApiKeyRateThrottle, UserRateThrottle, IntakeRateThrottle])
def test_the_api_throttles_read_the_same_address(throttle: type) -> None:
    forged = Request(RequestFactory().get("/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.1"))
    proxied = Request(RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="198.51.100.4"))

    assert throttle().get_ident(forged) == "203.0.113.9"
    assert throttle().get_ident(proxied) == "198.51.100.4"
