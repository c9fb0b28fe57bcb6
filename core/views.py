from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularSwaggerView

from core import health


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when every critical check passes, 503 naming the failing ones; for load balancers.
    A failing check that is not critical shows in the details only."""
    results = health.run_all()
    healthy = all(result.ok for result in results.values() if result.critical)
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {
            name: {"ok": result.ok, "detail": result.detail}
            # Only a check that is not critical says so: its failure leaves the status 200.
            | ({} if result.critical else {"critical": False})
            for name, result in results.items()
        },
    }
    return JsonResponse(body, status=200 if healthy else 503)


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI from the bundled assets, its start-up script carrying the CSP nonce."""

    template_name = "core/swagger_ui.html"
