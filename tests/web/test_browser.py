"""The clinician page in Debian's chromium (driven by Playwright) against real beacons on loopback.

Every answer the page shows is compared with the answer the API gives when asked directly. Screenshots
go to test-artifacts/screenshots/. Chromium missing is a failure, not a skip, unless BEACON_SKIP_BROWSER=1.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from beacon.aggregator.app import create_aggregator_app
from beacon.aggregator.settings import settings_from
from beacon.api.app import create_app
from ingest.demo import DATASET_ID
from tests.web.conftest import RESTRICTED, ServerFactory, api_post, open_page, page_config, screenshot

SEIZURE = "HP:0001250"

pytestmark = pytest.mark.skipif(
    os.environ.get("BEACON_SKIP_BROWSER") == "1", reason="BEACON_SKIP_BROWSER=1: browser tests skipped on request"
)


async def api_get(http: aiohttp.ClientSession, url: str, path: str, **params: str) -> dict[str, Any]:
    async with http.get(url + path, params=params) as resp:
        assert resp.status == 200, await resp.text()
        document: dict[str, Any] = await resp.json()
        return document


async def a_brca2_snp(http: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    """A SNP of the demo cohort, found through the API rather than hard-coded."""
    doc = await api_get(http, url, "/api/g_variants", geneId="BRCA2", requestedGranularity="record", limit="100")
    results = doc["response"]["resultSets"][0]["results"]
    variant: dict[str, Any] = next(v for v in results if v["variation"]["variantType"] == "SNP")
    return variant


def counts_of(doc: dict[str, Any]) -> dict[str, int]:
    return {rs["id"]: rs["resultsCount"] for rs in doc["response"]["resultSets"]}


async def direct_answer(http: aiohttp.ClientSession, url: str, **params: str) -> tuple[bool, int, dict[str, int]]:
    """exists, total and per-dataset counts of the API's count answer to a variant query asked with `params`."""
    doc = await api_get(
        http, url, "/api/g_variants", **params, requestedGranularity="count", includeResultsetResponses="ALL"
    )
    return doc["responseSummary"]["exists"], doc["responseSummary"]["numTotalResults"], counts_of(doc)


async def filtered_gene_answer(
    http: aiohttp.ClientSession, url: str, gene: str, term: str, scope: str
) -> tuple[bool, int, dict[str, int]]:
    """As `direct_answer`, for the variants of `gene` with the ontology filter `term` in `scope` (a POST query)."""
    query = {"requestParameters": {"geneId": gene}, "filters": [{"id": term, "scope": scope}]}
    doc = await api_post(
        http, url, "/api/g_variants", {**query, "requestedGranularity": "count", "includeResultsetResponses": "ALL"}
    )
    return doc["responseSummary"]["exists"], doc["responseSummary"]["numTotalResults"], counts_of(doc)


async def shown_answer(page: Page) -> tuple[bool, int, dict[str, int]]:
    """exists, total and per-dataset counts as the page shows them, once the answer is in."""
    summary = page.locator("#answer-summary")
    await expect(summary).to_have_attribute("data-total", re.compile(r"^\d+$"))
    exists = await summary.get_attribute("data-exists") == "true"
    total = int(await summary.get_attribute("data-total") or "-1")
    # Datasets not allowed for the caller or not searched have no count: the API returned none for them.
    rows = await page.locator(
        '#answer-table tbody tr[data-status="found"], #answer-table tbody tr[data-status="notFound"]'
    ).all()
    per_dataset = {}
    for row in rows:
        dataset = await row.get_attribute("data-dataset") or ""
        per_dataset[dataset] = int(await row.locator("td").nth(1).inner_text())
    return exists, total, per_dataset


async def test_a_variant_by_position_shows_the_apis_answer_and_frequencies(
    beacon: str, browser: Browser, http: aiohttp.ClientSession
) -> None:
    variant = await a_brca2_snp(http, beacon)
    start = variant["variation"]["location"]["interval"]["start"]["value"]
    ref, alt = variant["variation"]["referenceBases"], variant["variation"]["alternateBases"]
    page = await open_page(browser, beacon)
    await page.select_option("#assemblyId", "GRCh38")
    await page.fill("#referenceName", "13")
    await page.fill("#position", str(start + 1))
    await page.fill("#referenceBases", ref)
    await page.fill("#alternateBases", alt)
    await page.click("#ask")
    shown = await shown_answer(page)
    asked = {"start": str(start), "referenceBases": ref, "alternateBases": alt}
    assert shown == await direct_answer(http, beacon, assemblyId="GRCh38", referenceName="13", **asked)
    assert shown[0]  # exists
    frequency = variant["frequencyInPopulations"][0]["frequencies"][0]["alleleFrequency"]
    bar = page.locator(f'.chart[data-dataset="{DATASET_ID}"] g.bar')
    await expect(bar).to_have_count(1)
    assert float(await bar.get_attribute("data-value") or "nan") == frequency
    await screenshot(page, "variant-by-position")


async def test_a_genomic_hgvs_lookup_shows_the_apis_answer(
    beacon: str, browser: Browser, http: aiohttp.ClientSession
) -> None:
    hgvs = (await a_brca2_snp(http, beacon))["identifiers"]["genomicHGVSId"]
    page = await open_page(browser, beacon)
    await page.check('input[name="mode"][value="hgvs"]')
    await page.fill("#hgvs", hgvs)
    await page.click("#ask")
    shown = await shown_answer(page)
    assert shown == await direct_answer(http, beacon, genomicAlleleShortForm=hgvs)
    assert shown[0]  # exists
    await screenshot(page, "variant-by-hgvs")


async def test_a_gene_lookup_shows_the_apis_answer(beacon: str, browser: Browser, http: aiohttp.ClientSession) -> None:
    page = await open_page(browser, beacon)
    await page.check('input[name="mode"][value="gene"]')
    await page.fill("#geneId", "BRCA2")
    await page.click("#ask")
    exists, total, per_dataset = await shown_answer(page)
    assert (exists, total, per_dataset) == await direct_answer(http, beacon, geneId="BRCA2")
    assert exists
    assert total > 1
    await screenshot(page, "variants-in-gene")


async def test_a_filter_chosen_from_the_autocomplete_changes_the_count_to_the_apis(
    beacon: str, browser: Browser, http: aiohttp.ClientSession
) -> None:
    terms = (await api_get(http, beacon, "/api/filtering_terms"))["response"]["filteringTerms"]
    seizure = next(t for t in terms if t["id"] == SEIZURE)
    page = await open_page(browser, beacon)
    await page.check('input[name="mode"][value="gene"]')
    await page.fill("#geneId", "BRCA2")
    await page.click("#ask")
    _, unfiltered, _ = await shown_answer(page)
    await page.fill("#filter-input", "seizu")
    option = page.locator(f'#filter-options [role="option"][data-term-id="{SEIZURE}"]')
    await expect(option).to_be_visible()
    await expect(page.locator("#filter-input")).to_have_attribute("aria-expanded", "true")
    await screenshot(page, "filter-autocomplete")
    await option.click()
    await expect(page.locator(f'#chosen-filters li[data-term-id="{SEIZURE}"]')).to_be_visible()
    await page.click("#ask")
    await expect(page.locator("#answer-summary")).not_to_have_attribute("data-total", str(unfiltered))
    exists, total, per_dataset = await shown_answer(page)
    assert (exists, total, per_dataset) == await filtered_gene_answer(
        http, beacon, "BRCA2", SEIZURE, seizure["scopes"][0]
    )
    assert total != unfiltered
    await screenshot(page, "filtered-by-seizure")


async def test_the_form_works_with_the_keyboard_alone(
    beacon: str, browser: Browser, http: aiohttp.ClientSession
) -> None:
    page = await open_page(browser, beacon)
    keyboard = page.keyboard
    for _ in range(12):  # the skip link and the language switcher come first
        await keyboard.press("Tab")
        if await page.evaluate("document.activeElement.name") == "mode":
            break
    assert await page.evaluate("document.activeElement.value") == "position"
    await keyboard.press("ArrowRight")  # position -> HGVS
    await keyboard.press("ArrowRight")  # HGVS -> gene
    await keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "assemblyId"
    await keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "geneId"
    await keyboard.type("BRCA2")
    await keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "filter-input"
    await keyboard.type("seizure")
    await keyboard.press("ArrowDown")
    active = await page.get_attribute("#filter-input", "aria-activedescendant")
    assert await page.get_attribute(f"#{active}", "data-term-id") == SEIZURE
    await keyboard.press("Enter")  # adds the term; does not submit
    await expect(page.locator(f'#chosen-filters li[data-term-id="{SEIZURE}"]')).to_be_visible()
    await expect(page.locator("#answer-summary")).to_have_text("No question asked yet.")
    await keyboard.press("Tab")  # the chosen filter's remove button
    await keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "ask"
    await keyboard.press("Enter")
    assert await shown_answer(page) == await filtered_gene_answer(http, beacon, "BRCA2", SEIZURE, "individual")
    await screenshot(page, "keyboard-only")


async def test_each_datasets_access_level_is_shown_and_a_token_is_sent_but_not_stored(
    beacon: str, browser: Browser
) -> None:
    page = await open_page(browser, beacon)
    rows = page.locator("#datasets-table tbody tr")
    await expect(rows).to_have_count(5)
    public = page.locator(f'#datasets-table tr[data-dataset="{DATASET_ID}"] td')
    restricted = page.locator(f'#datasets-table tr[data-dataset="{RESTRICTED}"] td')
    await expect(public.nth(1)).to_have_text("PUBLIC")
    # The level and granularity come from the API's info.beaconAccess, not from probing.
    await expect(public.nth(2)).to_have_text("yes, anyone (answers up to record level)")
    await expect(restricted.nth(1)).to_have_text("REGISTERED")
    await expect(restricted.nth(2)).to_have_text("no: needs a token")
    await screenshot(page, "dataset-access-levels")

    sent: list[str | None] = []
    page.on("request", lambda request: sent.append(request.headers.get("authorization")))
    await page.fill("#token", "Bearer not-a-real-token")
    await page.press("#token", "Enter")
    await expect(page.locator("#token-status")).to_have_text("The beacon did not accept the token.")
    assert "Bearer not-a-real-token" in sent
    assert await page.evaluate("sessionStorage.getItem('beacon.bearerToken')") == "not-a-real-token"
    stored = await page.evaluate("Object.values(localStorage).join(' ')")
    assert "not-a-real-token" not in stored
    assert await page.input_value("#token") == ""
    await page.click("#token-forget")
    await expect(page.locator("#token-status")).to_have_text("No token: you see public datasets only.")
    assert await page.evaluate("sessionStorage.getItem('beacon.bearerToken')") is None


async def test_an_aggregator_shows_each_member_beacons_answer_as_it_arrives(
    aiohttp_server: ServerFactory, page_db: Path, browser: Browser, http: aiohttp.ClientSession
) -> None:
    members = {}
    for member_id in ("north", "south"):
        server = await aiohttp_server(create_app(page_config(page_db)))
        members[member_id] = str(server.make_url("/api"))
    settings = settings_from(
        {
            "beacon": {"id": "org.example.network", "name": "Test network", "organization": {"id": "o", "name": "O"}},
            "fanout": {"deadline_s": 5.0, "cache_ttl_s": 0},
            "members": [{"id": m, "url": url, "timeout_s": 5.0} for m, url in members.items()],
        }
    )
    aggregator = str((await aiohttp_server(create_aggregator_app(settings))).make_url("")).rstrip("/")
    page = await open_page(browser, aggregator)
    await expect(page.locator("#network-badge")).to_be_visible()
    await expect(page.locator(f'#datasets-table tr[data-dataset="north:{DATASET_ID}"]')).to_have_count(1)
    await page.check('input[name="mode"][value="gene"]')
    await page.fill("#geneId", "BRCA2")
    await page.click("#ask")
    _, total, per_dataset = await shown_answer(page)
    for member_id, url in members.items():
        row = page.locator(f'#members-table tr[data-member="{member_id}"] td')
        direct = await api_get(
            http, url.removesuffix("/api"), "/api/g_variants", geneId="BRCA2", requestedGranularity="count"
        )
        await expect(row.nth(0)).to_have_text("ok")
        await expect(row.nth(2)).to_have_text("yes")
        await expect(row.nth(3)).to_have_text(str(direct["responseSummary"]["numTotalResults"]))
    merged = await api_get(
        http,
        aggregator,
        "/api/g_variants",
        geneId="BRCA2",
        requestedGranularity="count",
        includeResultsetResponses="ALL",
    )
    assert total == merged["responseSummary"]["numTotalResults"]
    assert per_dataset == counts_of(merged)
    await screenshot(page, "aggregator-per-beacon")
