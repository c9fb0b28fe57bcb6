"""A stale partner source in /healthz: shown, but not critical, since our own advisories and
alerts work without it and a load balancer must not take the site out for it."""

from core.health import CheckResult
from peers.selectors import sources_status


def partner_sources() -> CheckResult:
    enabled = [status for status in sources_status() if status.enabled]
    if not enabled:
        return CheckResult(ok=True, detail="no partner source enabled", critical=False)
    stale = [status for status in enabled if status.stale]
    if not stale:
        return CheckResult(
            ok=True,
            detail=f"{len(enabled)} fresh: " + ", ".join(s.name for s in enabled),
            critical=False,
        )
    detail = "; ".join(
        f"{s.name} stale (last success "
        f"{s.last_success_at.isoformat(timespec='seconds') if s.last_success_at else 'never'}"
        f"{', ' + s.last_error if s.last_error else ''})"
        for s in stale
    )
    return CheckResult(ok=False, detail=detail, critical=False)
