"""A member's circuit breaker counts only what the member does on its own, never what a caller's token provokes."""

from __future__ import annotations

from pathlib import Path

import pytest

from beacon.aggregator.members import Outcome, Status, Verdict, verdict
from tests.aggregator.loopback import Network, ServerFactory, build_network
from tests.conftest import AiohttpClient, fetch

CRAFTED = {"Authorization": "Bearer not-a-jwt"}
COUNT = {"requestedGranularity": "count"}


async def _outcomes(network: Network, headers: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    resp = await network.client.get("/api/individuals", params=COUNT, headers=headers or {})
    assert resp.status == 200, await resp.text()
    return {m["memberId"]: m for m in (await resp.json())["info"]["members"]}


async def _forwarding_to(
    server: ServerFactory, client: AiohttpClient, member: str, *, breaker_failures: int
) -> Network:
    """A network whose only member misbehaves as `member` does in loopback.py, and is sent the caller's token."""
    return await build_network(server, client, {}, (member,), forward=(member,), breaker_failures=breaker_failures)


async def test_a_members_refusal_of_the_callers_token_is_reported_and_never_opens_its_circuit(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await build_network(aiohttp_server, aiohttp_client, {"cineca": cineca_db}, (), breaker_failures=2)
    for _ in range(5):
        cineca = (await _outcomes(network, CRAFTED))["cineca"]
        assert cineca["outcome"] == "refused"
        assert cineca["httpStatus"] == 401
        assert "not a JWT" in str(cineca["message"])
    assert (await _outcomes(network))["cineca"]["outcome"] == "ok"
    health = await (await network.client.get("/health")).json()
    assert health["members"]["cineca"] == {"healthy": True, "circuit": "closed"}


async def test_a_refused_answer_is_never_cached_for_the_next_caller(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient, cineca_db: Path
) -> None:
    network = await build_network(aiohttp_server, aiohttp_client, {"cineca": cineca_db}, (), cache_ttl_s=60)
    assert (await _outcomes(network, CRAFTED))["cineca"]["outcome"] == "refused"
    document = await fetch(network.client, "GET", "/api/individuals", params=COUNT)
    assert document["responseSummary"]["numTotalResults"] == 2504


async def test_a_5xx_provoked_by_a_forwarded_token_never_opens_the_members_circuit(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient
) -> None:
    network = await _forwarding_to(aiohttp_server, aiohttp_client, "token500", breaker_failures=2)
    for _ in range(5):
        member = (await _outcomes(network, CRAFTED))["token500"]
        assert (member["outcome"], member["message"]) == ("error", "HTTP 500: error")
    assert (await _outcomes(network))["token500"]["outcome"] == "ok"


async def test_a_refused_connection_opens_the_circuit_whatever_the_caller_sent(
    aiohttp_server: ServerFactory, aiohttp_client: AiohttpClient
) -> None:
    network = await _forwarding_to(aiohttp_server, aiohttp_client, "refused", breaker_failures=3)
    # The refused /map read at start is the first failure.
    for _ in range(2):
        assert (await _outcomes(network, CRAFTED))["refused"]["outcome"] == "error"
    member = (await _outcomes(network, CRAFTED))["refused"]
    assert member["outcome"] == "skipped"
    assert "circuit open" in str(member["message"])


def _outcome(status: Status, http_status: int | None) -> Outcome:
    return Outcome("m", status, http_status=http_status)


@pytest.mark.parametrize(
    ("outcome", "forwarded", "refused_connection", "expected"),
    [
        (_outcome(Status.OK, 200), False, False, Verdict.UP),
        (_outcome(Status.REFUSED, 401), False, False, Verdict.UP),
        (_outcome(Status.ERROR, 404), False, False, Verdict.UP),
        (_outcome(Status.ERROR, 503), False, False, Verdict.DOWN),
        (_outcome(Status.INVALID, 200), False, False, Verdict.DOWN),
        (_outcome(Status.TIMEOUT, None), False, False, Verdict.DOWN),
        (_outcome(Status.REFUSED, 403), True, False, Verdict.UNKNOWN),
        (_outcome(Status.ERROR, 500), True, False, Verdict.UNKNOWN),
        (_outcome(Status.TIMEOUT, None), True, False, Verdict.UNKNOWN),
        (_outcome(Status.OK, 200), True, False, Verdict.UNKNOWN),
        (_outcome(Status.ERROR, None), True, True, Verdict.DOWN),
    ],
    ids=[
        "an anonymous 200 shows the member up",
        "an anonymous 401 shows the member up",
        "an anonymous 404 shows the member up",
        "an anonymous 503 counts against the member",
        "an anonymous invalid answer counts against the member",
        "an anonymous timeout counts against the member",
        "a 403 to a forwarded token says nothing about the member",
        "a 500 to a forwarded token says nothing about the member",
        "a timeout with a forwarded token says nothing about the member",
        "a 200 to a forwarded token says nothing about the member",
        "a refused connection counts even with a forwarded token",
    ],
)
def test_what_one_call_says_about_the_member(
    outcome: Outcome, forwarded: bool, refused_connection: bool, expected: Verdict
) -> None:
    assert verdict(outcome, forwarded=forwarded, refused_connection=refused_connection) is expected
