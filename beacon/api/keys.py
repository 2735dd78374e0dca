"""Typed keys for app-lifetime objects and per-request values (no module-level mutable state anywhere)."""

from __future__ import annotations

from aiohttp import web

from beacon.config import Config
from beacon.genome.genes import GeneTable
from beacon.genome.liftover import Lifter
from beacon.model.entry_types import EntryType
from beacon.model.request import BeaconRequest
from beacon.store.guard import GuardedStore

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", GuardedStore)
# (source assembly, target assembly) -> chain, read at startup
LIFTERS = web.AppKey("lifters", dict[tuple[str, str], Lifter])
# assembly -> gene table, read at startup
GENES = web.AppKey("genes", dict[str, GeneTable])

REQUEST_ID = web.RequestKey("request_id", str)
# Set once parsed, so an error response can echo the request it answers.
PARSED_REQUEST = web.RequestKey("parsed_request", BeaconRequest)
ENTRY = web.RequestKey("entry_type", EntryType)
