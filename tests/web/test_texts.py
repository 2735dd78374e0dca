"""The page's texts: every language has every key (with the same placeholders), every key the page uses exists,
and the server picks the first language from Accept-Language. No browser needed."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beacon.api.web_page import LANGUAGES, WEB_DIR, chosen_language

I18N = WEB_DIR / "i18n"
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Keys the scripts build at run time: card facts, dataset answers, granularities.
DYNAMIC = {
    *(f"card.{k}" for k in ("position", "genomicHgvs", "genes", "effect", "transcriptHgvs", "proteinHgvs")),
    *(f"card.{k}" for k in ("identifiers", "clinical", "zygosity")),
    *(f"status.{k}" for k in ("found", "notFound", "notAllowed", "notSearched")),
    *(f"granularity.{k}" for k in ("boolean", "count", "record")),
}


def texts(language: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads((I18N / f"{language}.json").read_text(encoding="utf-8"))
    return loaded


def problems(english: dict[str, str], other: dict[str, str]) -> list[str]:
    """Keys missing, extra, empty or with other placeholders than English, in `other`."""
    found = [f"missing {k}" for k in sorted(set(english) - set(other))]
    found += [f"extra {k}" for k in sorted(set(other) - set(english))]
    for key, text in english.items():
        if key not in other:
            continue
        if not other[key].strip():
            found.append(f"empty {key}")
        elif set(PLACEHOLDER.findall(other[key])) != set(PLACEHOLDER.findall(text)):
            found.append(f"placeholders of {key}")
    return found


def used_keys() -> set[str]:
    """Keys named in index.html (data-i18n, data-i18n-label) and as string literals in the scripts."""
    html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    keys = set(re.findall(r'data-i18n(?:-label)?="([^"]+)"', html))
    prefixes = {key.split(".")[0] for key in texts("en")}
    for script in WEB_DIR.glob("*.js"):
        for literal in re.findall(r'"([a-zA-Z]+(?:\.[a-zA-Z]+)?)"', script.read_text(encoding="utf-8")):
            if "." in literal and literal.split(".")[0] in prefixes:
                keys.add(literal)
        keys.update(re.findall(r'\bt\("([^"]+)"', script.read_text(encoding="utf-8")))
    return keys | DYNAMIC


def test_there_is_one_file_per_language_and_no_other() -> None:
    assert sorted(p.stem for p in I18N.glob("*.json")) == sorted(LANGUAGES)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_each_language_has_every_english_key_with_the_same_placeholders(language: str) -> None:
    assert problems(texts("en"), texts(language)) == [], f"{language}.json"


def test_every_key_the_page_uses_is_in_english() -> None:
    assert sorted(used_keys() - set(texts("en"))) == []


def test_the_check_names_a_missing_key_an_empty_text_and_a_lost_placeholder() -> None:
    english = texts("en")
    broken = {k: v for k, v in texts("fr").items() if k != "card.carriers"}
    broken["ask"] = " "
    broken["answer.found"] = "{question} : trouvé."
    assert problems(english, broken) == ["missing card.carriers", "empty ask", "placeholders of answer.found"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "en"),
        ("da-DK,da;q=0.9,en;q=0.8", "da"),
        ("sv-SE", "sv"),
        ("no", "nb"),
        ("nn-NO,nb;q=0.5", "nn"),
        ("de-DE,bg;q=0.7,fr;q=0.9", "fr"),
        ("de-DE,ja;q=0.5", "en"),
        ("fr;q=0,bg", "bg"),
        ("fr;q=nonsense, bg;q=0.1", "bg"),
    ],
    ids=lambda v: v or "none",
)
def test_the_language_is_chosen_from_accept_language(header: str, expected: str) -> None:
    assert chosen_language(header) == expected


async def test_the_page_is_served_in_the_accepted_language_and_its_texts_and_scripts_are_served(
    cineca: TestClient[Any, Any],
) -> None:
    expected = {language: await asyncio.to_thread(texts, language) for language in LANGUAGES}
    resp = await cineca.get("/", headers={"Accept-Language": "bg-BG,bg;q=0.9"})
    assert resp.status == 200
    assert '<html lang="bg">' in await resp.text()
    assert resp.headers["Content-Language"] == "bg"
    assert "Accept-Language" in resp.headers["Vary"]
    for language in LANGUAGES:
        served = await cineca.get(f"/static/i18n/{language}.json")
        assert served.status == 200
        assert await served.json() == expected[language]
    # Every script of the page is on the server's allow-list.
    scripts = await asyncio.to_thread(lambda: sorted(p.name for p in WEB_DIR.glob("*.js")))
    assert len(scripts) >= 9
    for name in scripts:
        script = await cineca.get(f"/static/{name}")
        assert script.status == 200, name
        assert "javascript" in script.content_type
        await script.read()
    for missing in ("/static/i18n/de.json", "/static/i18n/..%2Fapp.js", "/static/nope.js"):
        assert (await cineca.get(missing)).status == 404, missing
