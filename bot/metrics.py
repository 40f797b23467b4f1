"""Prometheus metrics, on a registry per app so tests and replicas do not share counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge


@dataclass
class Metrics:
    """The service's counters and gauges."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.deliveries = Counter(
            "ringbot_webhook_deliveries_total",
            "Webhook deliveries by event and outcome",
            ["event", "outcome"],
            registry=r,
        )
        self.queue_depth = Gauge("ringbot_queue_depth", "Work keys waiting", registry=r)
        self.jobs = Counter(
            "ringbot_jobs_total", "Jobs run by kind and outcome", ["kind", "outcome"], registry=r
        )
        self.coalesced = Counter(
            "ringbot_jobs_coalesced_total", "Work keys merged into one pending", registry=r
        )
        self.github_requests = Counter(
            "ringbot_github_requests_total",
            "GitHub API requests by method and status",
            ["method", "status"],
            registry=r,
        )
        self.rate_limit_remaining = Gauge(
            "ringbot_github_rate_limit_remaining",
            "x-ratelimit-remaining last seen, by installation",
            ["installation"],
            registry=r,
        )
