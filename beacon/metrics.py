"""Every Prometheus metric of the server and of ingest, each family in the registry it is given.

Nothing here touches the default global registry: each app (and each ingest run) builds its own
`CollectorRegistry`, so two apps in one process never share a counter. Labels are bounded by
construction: route templates (never raw paths), a closed set of methods, status classes, entry
types from the entry-type table, query kinds, granularities, store operations, loader kinds and
dataset ids from the operator's own load commands.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Requests that matched no route (404, 405) share one endpoint label.
UNMATCHED = "unmatched"
KNOWN_METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def method_label(method: str) -> str:
    """The method as a label: any method outside the standard set is `other` (clients choose it freely)."""
    return method if method in KNOWN_METHODS else "other"


def status_class(status: int) -> str:
    """`2xx`, `4xx`, `5xx`…"""
    return f"{status // 100}xx"


class RequestMetrics:
    """HTTP requests and the Beacon queries among them; shared by the beacon and the aggregator apps."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "beacon_requests_total",
            "HTTP requests answered, by route template, method and status class",
            ["endpoint", "method", "status_class"],
            registry=registry,
        )
        self.duration = Histogram(
            "beacon_request_duration_seconds",
            "Time from receiving a request to its response, by route template",
            ["endpoint"],
            registry=registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.queries = Counter(
            "beacon_queries_total",
            "Parsed Beacon queries, by entry type, variant query kind, filter use and granularity answered "
            "(requested, when the request failed before one was decided)",
            ["entry_type", "query_type", "filtered", "granularity"],
            registry=registry,
        )

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, method_label(method), status_class(status)).inc()
        self.duration.labels(endpoint).observe(seconds)

    def observe_query(self, entry_type: str, query_type: str, filtered: bool, granularity: str) -> None:
        self.queries.labels(entry_type, query_type, "true" if filtered else "false", granularity).inc()


class StoreMetrics:
    """Time spent in store calls by operation, failed calls, and whether the store answers."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = Histogram(
            "beacon_store_operation_duration_seconds",
            "Time spent in store calls, by operation (count, find, ...)",
            ["operation"],
            registry=registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.errors = Counter(
            "beacon_store_operation_errors_total",
            "Store calls that raised or were cancelled, by operation",
            ["operation"],
            registry=registry,
        )
        self.up = Gauge(
            "beacon_store_up",
            "1 when the store answered a catalog read at the last scrape, else 0",
            ["backend"],
            registry=registry,
        )

    def observe(self, operation: str, seconds: float, ok: bool) -> None:
        """Record one store call (the `GuardedStore` observer)."""
        self.duration.labels(operation).observe(seconds)
        if not ok:
            self.errors.labels(operation).inc()


class IngestMetrics:
    """Records read, written and rejected by one ingest run, by loader kind and dataset."""

    def __init__(self, registry: CollectorRegistry) -> None:
        labels = ["loader", "dataset"]
        self.read = Counter("beacon_ingest_records_read_total", "Input records read", labels, registry=registry)
        self.written = Counter(
            "beacon_ingest_records_written_total",
            "Records written to the store (0 for validation runs and unchanged input)",
            labels,
            registry=registry,
        )
        self.rejected = Counter(
            "beacon_ingest_records_rejected_total", "Invalid input records", labels, registry=registry
        )
        self.success = Gauge(
            "beacon_ingest_last_run_success", "1 when the run finished without error, else 0", labels, registry=registry
        )
        self.finished = Gauge(
            "beacon_ingest_last_run_timestamp_seconds", "When the run finished (Unix time)", labels, registry=registry
        )
