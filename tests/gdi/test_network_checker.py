"""Both beacons of the GDI profile are network-checker clean: every URL of /map answers a bare GET, valid, fast."""

from __future__ import annotations

from tests.gdi.conftest import INDIVIDUALS_DATASET, Node
from tests.gdi.portal import BONA_FIDE, STATUS
from tests.network_checker import walk_map

NETWORK_LIMIT_S = 5.0


async def test_every_url_the_allele_frequency_beacons_map_lists_answers_a_bare_get(node: Node) -> None:
    walk = await walk_map(node.af, node.af_config.entry_types)
    assert any("/g_variants/" in path for path in walk.latencies), "a variant filled in {id}"
    assert walk.p95() < NETWORK_LIMIT_S / 10


async def test_every_url_the_individuals_beacons_map_lists_answers_a_bare_get_of_a_bona_fide_researcher(
    node: Node,
) -> None:
    # Controlled, counts only: a network asks it with a researcher's visa, and no record shows to fill {id} from.
    visa = node.broker.visa(BONA_FIDE, **STATUS)
    headers = {"Authorization": f"Bearer {node.issuer.token(ga4gh_passport_v1=[visa])}"}
    known = {"individual": "GOE000", "dataset": INDIVIDUALS_DATASET}
    walk = await walk_map(node.individuals, node.individuals_config.entry_types, known, headers)
    assert "/api/individuals/GOE000" in walk.latencies
    assert walk.p95() < NETWORK_LIMIT_S / 10
