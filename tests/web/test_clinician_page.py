"""Issue 25's clinician page in Chromium: the variant card, population tables, links out, each lookup mode, each
error state and each language, every state checked with axe-core (no serious or critical violation).

Every count the page shows is compared with the count the API gives when asked directly. Screenshots go to
test-artifacts/screenshots/clinician-*.png.
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
from playwright.async_api import Browser, Page, expect

from beacon.api.app import create_app
from beacon.api.web_page import LANGUAGES, WEB_DIR
from ingest.demo import DATASET_ID
from tests.web.conftest import (
    PANEL,
    PANEL_37,
    PHENOPACKETS,
    RESTRICTED,
    ServerFactory,
    api_post,
    assert_accessible,
    open_page,
    page_config,
    screenshot,
)

pytestmark = pytest.mark.skipif(
    os.environ.get("BEACON_SKIP_BROWSER") == "1", reason="BEACON_SKIP_BROWSER=1: browser tests skipped on request"
)

SMAD2 = {"chrom": "18", "pos": "47851273", "ref": "C", "alt": "T"}
SMAD2_ID = "18:47851273:C>T"
SMAD2_TRANSCRIPT = "NM_005901.6:c.784+1G>A"
ATRIAL_SEPTAL_DEFECT = "HP:0001631"
LOCALES = {"en": "en-GB", "da": "da-DK", "sv": "sv-SE", "nb": "nb-NO", "nn": "nn-NO", "bg": "bg-BG", "fr": "fr-FR"}


def texts(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((WEB_DIR / "i18n" / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


async def carriers_counted_by_the_api(
    http: aiohttp.ClientSession, url: str, variant_id: str, filters: list[dict[str, str]]
) -> int:
    doc = await api_post(
        http,
        url,
        f"/api/g_variants/{quote(variant_id, safe='')}/individuals",
        {"requestParameters": {"datasetIds": [PHENOPACKETS]}, "filters": filters, "requestedGranularity": "count"},
    )
    total: int = doc["responseSummary"]["numTotalResults"]
    return total


async def ask_position(page: Page, chrom: str, pos: str, ref: str, alt: str, assembly: str = "GRCh38") -> None:
    await page.check('input[name="mode"][value="position"]')
    await page.select_option("#assemblyId", assembly)
    await page.fill("#referenceName", chrom)
    await page.fill("#position", pos)
    await page.fill("#referenceBases", ref)
    await page.fill("#alternateBases", alt)
    await page.click("#ask")


async def answered(page: Page, state: str) -> None:
    await expect(page.locator("#answer-summary")).to_have_attribute("data-state", state)


async def statuses(page: Page) -> dict[str, str]:
    rows = page.locator("#answer-table tbody tr")
    return {
        await row.get_attribute("data-dataset") or "": await row.get_attribute("data-status") or ""
        for row in await rows.all()
    }


async def test_the_smad2_variant_card_shows_what_is_stored_and_what_the_api_counts(
    beacon: str, browser: Browser, http: aiohttp.ClientSession, axe_source: str
) -> None:
    page = await open_page(browser, beacon)
    await ask_position(page, **SMAD2)
    await answered(page, "found")
    card = page.locator(f'.card[data-variant="{SMAD2_ID}"]')
    await expect(card.locator(".carriers [data-carriers]")).to_be_visible()
    await expect(card.locator("h3")).to_have_text(f"SMAD2 · {SMAD2_TRANSCRIPT}")
    facts = {key: card.locator(f'dd[data-fact="{key}"]') for key in ("position", "genes", "transcriptHgvs", "clinical")}
    await expect(facts["position"]).to_have_text("18:47851273 C>T (GRCh38)")
    await expect(facts["genes"]).to_have_text("SMAD2")
    await expect(facts["transcriptHgvs"]).to_have_text(SMAD2_TRANSCRIPT)
    await expect(facts["clinical"]).to_contain_text("OMIM:619657")
    await expect(facts["clinical"].locator("a")).to_have_attribute("href", "https://omim.org/entry/619657")
    await expect(card.locator('dd[data-fact="zygosity"]')).to_have_text("heterozygous")
    links = {
        await a.get_attribute("data-link"): await a.get_attribute("href") for a in await card.locator(".links a").all()
    }
    assert links == {
        "gnomAD": "https://gnomad.broadinstitute.org/variant/18-47851273-C-T?dataset=gnomad_r4",
        "ClinVar": f"https://www.ncbi.nlm.nih.gov/clinvar/?term={quote(SMAD2_TRANSCRIPT, safe='')}",
        "Ensembl": "https://www.ensembl.org/Homo_sapiens/Location/View?r=18:47851273-47851273",
        "UCSC": "https://genome.ucsc.edu/cgi-bin/hgTracks?db=hg38&position=chr18:47851273-47851273",
    }
    # Three different answers beside "found": not found, not allowed for this access, not searched (GRCh37).
    assert await statuses(page) == {
        PHENOPACKETS: "found",
        DATASET_ID: "notFound",
        PANEL: "notFound",
        PANEL_37: "notSearched",
        RESTRICTED: "notAllowed",
    }
    # Carriers and the carriers' phenotypes: each number is the API's own count.
    carriers = await carriers_counted_by_the_api(http, beacon, SMAD2_ID, [])
    await expect(card.locator(".carriers [data-carriers]")).to_have_attribute("data-carriers", str(carriers))
    assert carriers == 1
    terms = await card.locator(".term-counts li").all()
    assert terms, "the carrier's phenotypes are listed"
    for item in terms:
        term = await item.get_attribute("data-term-id") or ""
        direct = await carriers_counted_by_the_api(http, beacon, SMAD2_ID, [{"id": term, "scope": "individual"}])
        assert await item.get_attribute("data-count") == str(direct), term
    shown = {await item.get_attribute("data-term-id") for item in terms}
    assert "HP:0001631" in shown  # Atrial septal defect, observed
    assert "HP:0001250" not in shown  # Seizure, recorded as excluded
    await assert_accessible(page, axe_source, "variant card")
    await screenshot(page, "clinician-smad2-card")

    # The raw request sits behind a toggle, and "copy as curl" copies the same question without a token.
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await expect(page.locator("#answer-request")).not_to_be_visible()
    await page.click("#request-details summary")
    await expect(page.locator("#answer-request")).to_contain_text('"referenceName": "18"')
    await page.click("#copy-curl")
    await expect(page.locator("#copy-status")).to_have_text("Copied (without your token).")
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f"curl -X POST '{beacon}/api/g_variants' -H 'Content-Type: application/json' -d '")
    assert json.loads(copied.split(" -d ", 1)[1].strip("'"))["query"]["requestParameters"]["start"] == [47851272]
    await assert_accessible(page, axe_source, "request shown")
    await page.context.close()


async def test_the_card_reads_on_a_phone_in_dark_mode_and_prints(
    beacon: str, browser: Browser, axe_source: str
) -> None:
    page = await open_page(browser, beacon, color_scheme="dark", viewport={"width": 390, "height": 844})
    await ask_position(page, **SMAD2)
    await expect(page.locator(".card .carriers [data-carriers]")).to_be_visible()
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing makes the phone page scroll sideways"
    await assert_accessible(page, axe_source, "phone, dark")
    await screenshot(page, "clinician-smad2-card-phone-dark")
    await page.emulate_media(media="print")
    await expect(page.locator("#query-form")).to_be_hidden()
    await expect(page.locator(".card")).to_be_visible()
    await page.context.close()


@pytest.mark.parametrize("expression", [SMAD2_TRANSCRIPT, "NC_000018.10:g.47851273C>T"], ids=["transcript", "genomic"])
async def test_an_hgvs_lookup_opens_the_same_card(
    beacon: str, browser: Browser, axe_source: str, expression: str
) -> None:
    page = await open_page(browser, beacon)
    await page.check('input[name="mode"][value="hgvs"]')
    await page.fill("#hgvs", expression)
    await page.click("#ask")
    await answered(page, "found")
    await expect(page.locator(".card h3")).to_have_text(f"SMAD2 · {SMAD2_TRANSCRIPT}")
    await expect(page.locator(".card")).to_have_attribute("data-variant", SMAD2_ID)
    await assert_accessible(page, axe_source, f"hgvs {expression}")
    await screenshot(page, f"clinician-hgvs-{'transcript' if expression.startswith('NM') else 'genomic'}")
    await page.context.close()


async def test_a_gene_in_lower_case_lists_the_apis_variants_in_pages_each_opening_its_card(
    beacon: str, browser: Browser, http: aiohttp.ClientSession, axe_source: str
) -> None:
    direct = await api_post(
        http,
        beacon,
        "/api/g_variants",
        {"requestParameters": {"geneId": "SMAD2", "assemblyId": "GRCh38"}, "requestedGranularity": "count"},
    )
    total = direct["responseSummary"]["numTotalResults"]
    assert total > 10, "enough SMAD2 variants for two pages"
    page = await open_page(browser, beacon)
    await page.check('input[name="mode"][value="gene"]')
    await page.fill("#geneId", "smad2")
    await page.click("#ask")
    await answered(page, "found")
    await expect(page.locator("#answer-summary")).to_have_attribute("data-total", str(total))
    first = page.locator("#variants-table tbody tr")
    await expect(first).to_have_count(10)
    await expect(page.locator("#page-status")).to_have_text("Page 1 of 2")
    await assert_accessible(page, axe_source, "gene list")
    await screenshot(page, "clinician-gene-list")
    seen = {await row.get_attribute("data-variant") for row in await first.all()}
    await page.click("#page-next")
    await expect(page.locator("#page-status")).to_have_text("Page 2 of 2")
    second = page.locator("#variants-table tbody tr")
    await expect(second).to_have_count(total - 10)
    seen |= {await row.get_attribute("data-variant") for row in await second.all()}
    assert len(seen) == total
    await page.click("#page-previous")
    await expect(page.locator("#page-status")).to_have_text("Page 1 of 2")
    row = page.locator(f'#variants-table tr[data-variant="{SMAD2_ID}"]')
    if not await row.count():
        await page.click("#page-next")
    await page.click(f'#variants-table tr[data-variant="{SMAD2_ID}"] button')
    await expect(page.locator(f'.card[data-variant="{SMAD2_ID}"] h3')).to_be_focused()
    await expect(page.locator(".card .carriers [data-carriers]")).to_be_visible()
    await assert_accessible(page, axe_source, "card from the gene list")
    await screenshot(page, "clinician-gene-card")
    await page.context.close()


async def test_an_rs_number_finds_its_variant_with_the_population_table_and_chart_of_the_stored_counts(
    beacon: str, browser: Browser, http: aiohttp.ClientSession, axe_source: str
) -> None:
    page = await open_page(browser, beacon)
    await page.check('input[name="mode"][value="rs"]')
    await page.fill("#rsId", "RS334")
    await page.click("#ask")
    await answered(page, "found")
    assert (await statuses(page))[PANEL] == "found"
    card = page.locator(".card")
    await expect(card.locator('dd[data-fact="identifiers"]')).to_have_text("rs334")
    await expect(card.locator('a[data-link="dbSNP rs334"]')).to_have_attribute(
        "href", "https://www.ncbi.nlm.nih.gov/snp/rs334"
    )
    await expect(card.locator('a[data-link="gnomAD"]')).to_have_attribute(
        "href", "https://gnomad.broadinstitute.org/variant/11-5227002-T-A?dataset=gnomad_r4"
    )
    record = await api_post(
        http,
        beacon,
        "/api/g_variants",
        {
            "requestParameters": {"assemblyId": "GRCh38"},
            "filters": [{"id": "identifiers.variantAlternativeIds.id", "operator": "=", "value": "dbSNP:rs334"}],
            "requestedGranularity": "record",
        },
    )
    stored = record["response"]["resultSets"][0]["results"][0]["frequencyInPopulations"][0]["frequencies"]
    table = page.locator(f'.population-table[data-dataset="{PANEL}"]')
    await expect(table.locator("tbody tr")).to_have_count(len(stored))
    for f in stored:
        cells = table.locator(f'tbody tr[data-population="{f["population"]}"]')
        for key, field in (("ac", "alleleCount"), ("an", "alleleNumber"), ("hom", "alleleCountHomozygous")):
            await expect(cells.locator(f'[data-key="{key}"]')).to_have_text(str(f[field]))
        await expect(cells.locator('[data-key="het"]')).to_have_text(str(f["alleleCountHeterozygous"]))
    bars = page.locator(f'.chart[data-dataset="{PANEL}"] g.bar')
    assert sorted([float(await b.get_attribute("data-value") or "nan") for b in await bars.all()]) == sorted(
        f["alleleFrequency"] for f in stored
    )
    english = await asyncio.to_thread(texts, "en")
    await expect(page.locator(".cohort-effect")).to_have_text(english["pop.unfiltered"])
    # Sorting: the frequency column first descending, a click on "Population" sorts by name.
    await table.locator('thead th[data-key="population"] button').click()
    await expect(table.locator('thead th[data-key="population"]')).to_have_attribute("aria-sort", "ascending")
    names = [await c.inner_text() for c in await table.locator('tbody [data-key="population"]').all()]
    assert names == sorted(names)
    await assert_accessible(page, axe_source, "population table")
    await screenshot(page, "clinician-population-table")

    # A chrX site: haploid calls are hemizygous, as stored.
    await ask_position(page, "X", "5000000", "C", "T")
    await answered(page, "found")
    hemi = page.locator(f'.population-table[data-dataset="{PANEL}"] tbody [data-key="hemi"]')
    await expect(hemi).to_have_count(len(stored))
    assert {await h.inner_text() for h in await hemi.all()} != {"0"}
    await page.context.close()


async def test_each_error_state_is_distinct_clears_the_last_answer_and_names_the_field(
    beacon: str, browser: Browser, axe_source: str
) -> None:
    page = await open_page(browser, beacon)
    en = await asyncio.to_thread(texts, "en")
    await ask_position(page, **SMAD2)
    await answered(page, "found")
    # An empty form: each required field says so next to itself; the previous answer is gone.
    for field in ("#referenceName", "#position", "#referenceBases", "#alternateBases"):
        await page.fill(field, "")
    await page.click("#ask")
    await expect(page.locator("#referenceName-error")).to_have_text(en["error.required"])
    await expect(page.locator("#position-error")).to_have_text(en["error.required"])
    await expect(page.locator("#alternateBases-error")).to_have_text(en["error.required"])
    await expect(page.locator("#referenceBases-error")).to_be_empty()
    await expect(page.locator("#referenceName")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#referenceName")).to_be_focused()
    await expect(page.locator(".card")).to_have_count(0)
    await expect(page.locator("#answer-table")).to_be_hidden()
    await expect(page.locator("#answer-summary")).to_have_text(en["answer.none"])
    await assert_accessible(page, axe_source, "empty form")
    await screenshot(page, "clinician-error-empty-form")
    # Invalid values: a message per field, the valid one left alone.
    await ask_position(page, "chr99", "0", "XY", "T")
    await expect(page.locator("#referenceName-error")).to_have_text(en["error.chromosome"])
    await expect(page.locator("#position-error")).to_have_text(en["error.position"])
    await expect(page.locator("#referenceBases-error")).to_have_text(en["error.bases"])
    await expect(page.locator("#alternateBases-error")).to_be_empty()
    await expect(page.locator("#alternateBases")).not_to_have_attribute("aria-invalid", "true")
    await assert_accessible(page, axe_source, "invalid values")
    await screenshot(page, "clinician-error-invalid-values")
    # The beacon refuses a question the form accepts: its message is shown, as an error.
    await page.check('input[name="mode"][value="hgvs"]')
    await page.fill("#hgvs", "NC_000018.10:g.47851273Q>T")
    await page.click("#ask")
    await answered(page, "error")
    await expect(page.locator("#answer-summary")).to_contain_text("The beacon could not answer: ")
    await expect(page.locator("#answer-summary")).to_contain_text("genomicAlleleShortForm")
    await assert_accessible(page, axe_source, "refused by the beacon")
    await screenshot(page, "clinician-error-refused")
    # Not found is an answer, not an error; it lists which datasets were not allowed or not searched.
    await ask_position(page, "18", "47851273", "C", "G")
    await answered(page, "not-found")
    assert await statuses(page) == {
        PHENOPACKETS: "notFound",
        DATASET_ID: "notFound",
        PANEL: "notFound",
        PANEL_37: "notSearched",
        RESTRICTED: "notAllowed",
    }
    await expect(page.locator("#answer-summary")).to_contain_text("not found in any dataset you may query")
    await expect(page.locator(f'#answer-table tr[data-dataset="{PANEL_37}"] td').first).to_have_text(
        "not searched (dataset on GRCh37)"
    )
    await expect(page.locator(f'#answer-table tr[data-dataset="{RESTRICTED}"] td').first).to_have_text(
        "not allowed for your access"
    )
    await assert_accessible(page, axe_source, "not found")
    await screenshot(page, "clinician-not-found")
    await page.context.close()


async def test_each_language_is_chosen_by_accept_language_and_the_switcher_overrides_it(
    beacon: str, browser: Browser, axe_source: str
) -> None:
    assert set(LOCALES) == set(LANGUAGES)
    for language, locale in LOCALES.items():
        page = await open_page(browser, beacon, locale=locale)
        words = await asyncio.to_thread(texts, language)
        assert await page.get_attribute("html", "lang") == language
        await expect(page.locator("#ask")).to_have_text(words["ask"])
        await expect(page.locator("#language")).to_have_value(language)
        await ask_position(page, **SMAD2)
        await expect(page.locator(".card .carriers [data-carriers]")).to_be_visible()
        await expect(page.locator(f'#answer-table tr[data-dataset="{RESTRICTED}"] td').first).to_have_text(
            words["status.notAllowed"]
        )
        await assert_accessible(page, axe_source, f"language {language}")
        await screenshot(page, f"clinician-language-{language}")
        await page.context.close()
    # Danish from the browser, French chosen in the switcher: the answer is drawn again in French, and kept.
    page = await open_page(browser, beacon, locale="da-DK")
    await ask_position(page, "11", "5227002", "T", "A")
    await expect(page.locator(".population-table")).to_be_visible()
    await page.select_option("#language", "fr")
    fr = await asyncio.to_thread(texts, "fr")
    await expect(page.locator("#ask")).to_have_text(fr["ask"])
    await expect(page.locator('.population-table th[data-key="an"] button')).to_have_text(fr["pop.an"])
    await expect(page.locator("html")).to_have_attribute("lang", "fr")
    await page.reload()
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    await expect(page.locator("#ask")).to_have_text(fr["ask"])
    await page.context.close()


async def test_numbers_are_formatted_for_the_language(beacon: str, browser: Browser) -> None:
    page = await open_page(browser, beacon, locale="fr-FR")
    formatted = await page.evaluate(
        "import('/static/i18n.js').then(m => "
        "[m.formatNumber(12345.5), m.formatFrequency(0.0303), m.formatDate('2026-12-06T12:00:00+00:00')])"
    )
    assert formatted == ["12\u202f345,5", "0,0303", "6 déc. 2026"]
    await page.context.close()


def test_axe_is_kept_out_of_the_package() -> None:
    shipped = [p.name for p in Path(WEB_DIR).rglob("*")]
    assert not any("axe" in name for name in shipped)


async def test_under_a_count_floor_the_page_says_fewer_than_the_floor_and_never_a_smaller_count(
    aiohttp_server: ServerFactory, page_db: Path, browser: Browser, http: aiohttp.ClientSession, axe_source: str
) -> None:
    config = page_config(page_db)
    floored = tuple(replace(d, count_floor=5) if d.id == PHENOPACKETS else d for d in config.datasets)
    server = await aiohttp_server(create_app(replace(config, datasets=floored)))
    url = str(server.make_url("")).rstrip("/")
    direct = await carriers_counted_by_the_api(http, url, SMAD2_ID, [])
    assert direct == 0, "one carrier: below the floor, read as none"
    page = await open_page(browser, url)
    # One SMAD2 variant in the dataset has a carrier with an atrial septal defect: a group below the floor.
    await page.check('input[name="mode"][value="gene"]')
    await page.fill("#geneId", "SMAD2")
    await page.fill("#filter-input", "atrial septal")
    await page.click(f'#filter-options [data-term-id="{ATRIAL_SEPTAL_DEFECT}"]')
    await page.click("#ask")
    await answered(page, "found")
    await page.click(f'#variants-table tr[data-variant="{SMAD2_ID}"] button')
    carriers = page.locator(".card .carriers [data-carriers]")
    await expect(carriers).to_have_attribute("data-carriers", "0")
    await expect(carriers).to_contain_text("none, or fewer than 5")
    for item in await page.locator(".card .term-counts li").all():
        term = await item.get_attribute("data-term-id") or ""
        counted = await carriers_counted_by_the_api(http, url, SMAD2_ID, [{"id": term, "scope": "individual"}])
        assert await item.get_attribute("data-count") == str(counted) == "0", term
    # The record's calls would count the carriers: the card does not list what it read from them.
    await expect(page.locator('.card dd[data-fact="zygosity"]')).to_have_count(0)
    card_text = await page.locator(".card").inner_text()
    assert " 1 carrier" not in card_text
    # The variant alone is a group of one in that dataset: "not found, or fewer than 5", not "not found".
    await ask_position(page, "18", "47851273", "C", "T")
    row = page.locator(f'#answer-table tr[data-dataset="{PHENOPACKETS}"]')
    await expect(row).to_have_attribute("data-status", "belowFloor")
    await expect(row).to_contain_text("fewer than 5")
    await assert_accessible(page, axe_source, "count floor")
    await screenshot(page, "clinician-count-floor")
    await page.context.close()
