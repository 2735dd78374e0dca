from tests.conftest import fetch


async def test_info(cineca):
    doc = await fetch(cineca, "GET", "/api/info", endpoint="info")
    assert doc["response"]["id"] == "org.example.beacon.test"


async def test_count(cineca):
    doc = await fetch(cineca, "GET", "/api/individuals", params={"requestedGranularity": "record"})
    assert doc["responseSummary"]["numTotalResults"] == 2504
