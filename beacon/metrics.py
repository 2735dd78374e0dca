"""Every Prometheus metric of the server and of ingest, each family in the registry it is given.

Nothing here touches the default global registry: each app (and each ingest run) builds its own
`CollectorRegistry`, so two apps in one process never share a counter. Labels are bounded by
construction: route templates (never raw paths), a closed set of methods, status classes, entry
types from the entry-type table, query kinds, granularities, store operations, loader kinds and
dataset ids from the operator's own load commands.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

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


class CounterTable:
    """A labelled counter kept as a plain dict and turned into a metric family only when scraped.

    Per-request families use these instead of prometheus_client's children: `labels()` validates
    and locks on every call, which cost about 4 µs of the 100 µs a point query may take
    (docs/benchmarks.md). Updated from the event loop's thread only.
    """

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...]) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self.values: dict[tuple[str, ...], float] = {}

    def inc(self, key: tuple[str, ...], amount: float = 1.0) -> None:
        self.values[key] = self.values.get(key, 0.0) + amount

    def family(self) -> Metric:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labels)
        for key, value in self.values.items():
            family.add_metric(key, value)
        return family


class HistogramTable:
    """A labelled histogram as a dict of bucket counts (see CounterTable); buckets are upper bounds, `le`."""

    def __init__(self, name: str, documentation: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> None:
        self.name, self.documentation, self.labels = name, documentation, labels
        self.bounds = buckets
        # Per label tuple: one count per bound, one above the last bound, then the sum of observations.
        self.values: dict[tuple[str, ...], list[float]] = {}

    def observe(self, key: tuple[str, ...], value: float) -> None:
        row = self.values.get(key)
        if row is None:
            row = self.values[key] = [0.0] * (len(self.bounds) + 2)
        row[bisect_left(self.bounds, value)] += 1
        row[-1] += value

    def family(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        for key, row in self.values.items():
            cumulative, buckets = 0.0, []
            for bound, count in zip((*self.bounds, float("inf")), row[:-1], strict=True):
                cumulative += count
                buckets.append((_le(bound), cumulative))
            family.add_metric(key, buckets, row[-1])
        return family


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else repr(float(bound))


class _Tables:
    """A registry collector exporting the tables it holds."""

    def __init__(self, registry: CollectorRegistry, *tables: CounterTable | HistogramTable) -> None:
        self._tables = tables
        registry.register(self)

    def collect(self) -> Iterator[Metric]:
        for table in self._tables:
            yield table.family()


class RequestMetrics:
    """HTTP requests and the Beacon queries among them; shared by the beacon and the aggregator apps."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = CounterTable(
            "beacon_requests",
            "HTTP requests answered, by route template, method and status class",
            ("endpoint", "method", "status_class"),
        )
        self.duration = HistogramTable(
            "beacon_request_duration_seconds",
            "Time from receiving a request to its response, by route template",
            ("endpoint",),
            _LATENCY_BUCKETS,
        )
        self.queries = CounterTable(
            "beacon_queries",
            "Parsed Beacon queries, by entry type, variant query kind, filter use and granularity answered "
            "(requested, when the request failed before one was decided)",
            ("entry_type", "query_type", "filtered", "granularity"),
        )
        _Tables(registry, self.requests, self.duration, self.queries)

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        self.requests.inc((endpoint, method_label(method), status_class(status)))
        self.duration.observe((endpoint,), seconds)

    def observe_query(self, entry_type: str, query_type: str, filtered: bool, granularity: str) -> None:
        self.queries.inc((entry_type, query_type, "true" if filtered else "false", granularity))


class StoreMetrics:
    """Time spent in store calls by operation, failed calls, and whether the store answers."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.duration = HistogramTable(
            "beacon_store_operation_duration_seconds",
            "Time spent in store calls, by operation (count, find, ...)",
            ("operation",),
            _LATENCY_BUCKETS,
        )
        self.errors = CounterTable(
            "beacon_store_operation_errors",
            "Store calls that raised or were cancelled, by operation",
            ("operation",),
        )
        _Tables(registry, self.duration, self.errors)
        self.up = Gauge(
            "beacon_store_up",
            "1 when the store answered a catalog read at the last scrape, else 0",
            ["backend"],
            registry=registry,
        )

    def observe(self, operation: str, seconds: float, ok: bool) -> None:
        """Record one store call (the `GuardedStore` observer)."""
        self.duration.observe((operation,), seconds)
        if not ok:
            self.errors.inc((operation,))


class MemberMetrics:
    """The aggregator's member calls: latency and outcome per member (labels: configured member ids)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "beacon_aggregator_member_latency_seconds",
            "Latency of member answers",
            ["member"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.outcomes = Counter(
            "beacon_aggregator_member_outcomes_total", "Member outcomes", ["member", "outcome"], registry=registry
        )
        self.deviations = Counter(
            "beacon_aggregator_member_deviating_answers_total",
            "Member answers merged although they deviate from the official schemas",
            ["member"],
            registry=registry,
        )

    def observe(self, member: str, outcome: str, latency_s: float | None, deviating: bool = False) -> None:
        """Record one member outcome; `latency_s` is None when the member was not asked."""
        self.outcomes.labels(member, outcome).inc()
        if deviating:
            self.deviations.labels(member).inc()
        if latency_s is not None:
            self.latency.labels(member).observe(latency_s)


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
