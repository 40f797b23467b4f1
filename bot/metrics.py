"""Prometheus metrics, on a registry per app so tests and replicas do not share counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge

# Label values come from a fixed set: anything a sender can choose freely would grow /metrics
# (and memory) without bound. These are the events app.yml subscribes to, plus those GitHub
# sends every App unasked.
WEBHOOK_EVENTS = frozenset(
    {
        "check_run",
        "check_suite",
        "deployment_protection_rule",
        "deployment_status",
        "issue_comment",
        "merge_group",
        "pull_request",
        "pull_request_review",
        "push",
        "status",
        "installation",
        "installation_repositories",
        "ping",
    }
)
OTHER_EVENT = "other"
DELIVERY_OUTCOMES = {
    202: "accepted",
    200: "duplicate",
    400: "rejected_400",
    401: "rejected_401",
    408: "rejected_408",
    413: "rejected_413",
    503: "rejected_503",
}


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
        # Labelled children are cached: looking one up costs more than counting.
        self._delivery_counters: dict[tuple[str, int], Counter] = {}
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
        # Catch-up from the delivery log. Outcomes are a fixed set: replayed (triaged into work
        # keys), fetched (logged payloads read), skipped (seen before, or nothing to replay),
        # deferred (over a pass's budget), failed (a payload that could not be fetched or
        # triaged), redelivered (asked GitHub to send again).
        self.catchup = Counter(
            "ringbot_catchup_deliveries_total",
            "Deliveries the catch-up handled, by outcome",
            ["outcome"],
            registry=r,
        )
        self.catchup_passes = Counter(
            "ringbot_catchup_passes_total",
            "Catch-up passes by result (complete, partial, failed)",
            ["result"],
            registry=r,
        )

    def count_delivery(self, event: str, status: int) -> None:
        """Count one webhook answer under its event (or "other") and its outcome."""
        label = event if event in WEBHOOK_EVENTS else OTHER_EVENT
        counter = self._delivery_counters.get((label, status))
        if counter is None:
            outcome = DELIVERY_OUTCOMES.get(status, "rejected_other")
            counter = self._delivery_counters[(label, status)] = self.deliveries.labels(
                label, outcome
            )
        counter.inc()
