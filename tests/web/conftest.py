"""Real beacons on loopback for the clinician page, Debian's chromium driven by Playwright, and axe-core.

The store holds the demo cohort (public, and again as a registered-access dataset), the SMAD2 phenopackets
of issue 25, and a small population panel VCF loaded on GRCh38 and again as a GRCh37 dataset.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from blockbuster import BlockBuster
from playwright.async_api import Browser, Page, async_playwright, expect

from beacon.api.app import create_app
from beacon.config import Config, DatasetPolicy
from beacon.model.granularity import Granularity, SecurityLevel
from beacon.store.sqlite import SqliteStore
from ingest.bff import load_bff
from ingest.demo import DATASET_ID, generate_demo
from ingest.phenopackets.load import PhenopacketOptions, load_phenopackets
from ingest.vcf.load import VcfOptions, load_vcf
from tests.conftest import ROOT, make_config

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DATA = Path(__file__).resolve().parent / "data"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
RESTRICTED = "demo-registered"
PHENOPACKETS = "phenopacket-store-smad2"
PANEL = "population-panel"
PANEL_37 = "population-panel-grch37"
# axe-core from the npm registry, pinned, fetched into var/ (git-ignored) by the test itself; never shipped.
AXE_VERSION = "4.14.1"
AXE_DIR = ROOT / "var" / "axe-core" / AXE_VERSION
ServerFactory = Callable[..., Awaitable[TestServer]]


@pytest.fixture(scope="session")
def page_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web")
    generate_demo(root / "bff")
    path = root / "beacon.db"

    async def load() -> None:
        store = SqliteStore(path)
        await store.open()
        try:
            for dataset in (DATASET_ID, RESTRICTED):
                await load_bff(root / "bff", dataset, store, assembly="GRCh38", on_error="fail")
            await load_phenopackets([DATA / "smad2"], PhenopacketOptions(PHENOPACKETS), store)
            vcf, samples = DATA / "panel_hbb_and_x_by_population.vcf", DATA / "panel_samples.tsv"
            for dataset, assembly in ((PANEL, "GRCh38"), (PANEL_37, "GRCh37")):
                options = VcfOptions(dataset, assembly, samples_table=samples)
                await load_vcf([vcf], options, store, parse_in_child=False)
        finally:
            await store.close()

    asyncio.run(load())
    return path


def page_config(db: Path) -> Config:
    config = make_config(
        f"sqlite:///{db}",
        DatasetPolicy(DATASET_ID, max_granularity=Granularity.RECORD, assembly="GRCh38"),
        DatasetPolicy(RESTRICTED, security=SecurityLevel.REGISTERED, assembly="GRCh38"),
        DatasetPolicy(PHENOPACKETS, max_granularity=Granularity.RECORD, assembly="GRCh38"),
        DatasetPolicy(PANEL, max_granularity=Granularity.RECORD, assembly="GRCh38"),
        DatasetPolicy(PANEL_37, max_granularity=Granularity.RECORD, assembly="GRCh37"),
    )
    # Restricted datasets are listed (not queryable) so the page can show every dataset's level.
    return replace(config, security=replace(config.security, list_inaccessible_datasets=True))


@pytest.fixture
async def beacon(aiohttp_server: ServerFactory, page_db: Path) -> str:
    """A real beacon on loopback; its base URL."""
    server = await aiohttp_server(create_app(page_config(page_db)))
    return str(server.make_url("")).rstrip("/")


@pytest.fixture(autouse=True)
def playwright_may_block(blockbuster: BlockBuster) -> None:
    """Playwright finds and starts its node driver with blocking calls once per browser; the beacons stay checked."""
    for function in blockbuster.functions.values():
        function.can_block_in("playwright/_impl/transport.py", "connect")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not await asyncio.to_thread(CHROMIUM.exists):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does) "
            "or set BEACON_SKIP_BROWSER=1 to skip the browser tests"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def _fetch_axe() -> str:
    """axe.min.js of AXE_VERSION, fetched once with `npm pack` from the npm registry into var/."""
    script = AXE_DIR / "package" / "axe.min.js"
    if not script.exists():
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent"], cwd=AXE_DIR, check=True, capture_output=True
            )
            tarball = next(AXE_DIR.glob("axe-core-*.tgz"))
            subprocess.run(
                ["tar", "-xzf", tarball.name, "package/axe.min.js", "package/LICENSE"], cwd=AXE_DIR, check=True
            )
        except (OSError, subprocess.CalledProcessError, StopIteration) as exc:
            pytest.fail(f"axe-core {AXE_VERSION} could not be fetched with npm into {AXE_DIR}: {exc}")
    return script.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def axe_source() -> str:
    return _fetch_axe()


async def open_page(browser: Browser, url: str, locale: str = "en-GB", **options: Any) -> Page:
    """A new page (its own context, so `locale` sets Accept-Language) once the page says it is ready."""
    context = await browser.new_context(**{"viewport": {"width": 1200, "height": 900}, "locale": locale, **options})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(url + "/")
    await expect(page.locator("body")).to_have_attribute("data-ready", "true")
    assert errors == []
    return page


async def screenshot(page: Page, name: str) -> Path:
    png = await page.screenshot(full_page=True)
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await asyncio.to_thread(path.write_bytes, png)
    return path


async def axe_violations(page: Page, source: str) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page as it stands (axe injected by the test only)."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(content=source)
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v.get("impact") in ("serious", "critical")]


async def assert_accessible(page: Page, source: str, state: str) -> None:
    found = await axe_violations(page, source)
    summary = [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]} for v in found]
    assert not found, f"{state}: serious/critical axe-core violations: {json.dumps(summary)}"


def browser_tests_skipped() -> bool:
    return os.environ.get("BEACON_SKIP_BROWSER") == "1"


async def api_post(http: aiohttp.ClientSession, url: str, path: str, query: dict[str, Any]) -> dict[str, Any]:
    """POST a Beacon query to a page's beacon, as the page would; the answer (status 200 asserted)."""
    async with http.post(url + path, json={"meta": {"apiVersion": "v2.0.0"}, "query": query}) as resp:
        assert resp.status == 200, await resp.text()
        document: dict[str, Any] = await resp.json()
        return document
