from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import include, path, re_path
from django.views.decorators.csrf import ensure_csrf_cookie
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from channels_adapters.simulator import views as simulator_views
from inbox.public_media import serve_public_media


@ensure_csrf_cookie
def web_inbox(request):
    """The React app's index.html for every client-side route."""
    if (settings.FRONTEND_DIST / "index.html").exists():
        return render(request, "index.html")
    return render(request, "placeholder.html", status=200)


def health(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    *([path("api/v1/simulate/", simulator_views.simulate)] if settings.HERON_FAKE_PROVIDERS else []),
    path("api/v1/", include("inbox.api.urls")),
    path("api/v1/", include("search.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its script from a URL, not inline, for the Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("anymail/", include("channels_adapters.email.urls")),  # anymail's, refusing unreadable payloads
    path("webhooks/", include("channels_adapters.urls")),
    path("healthz", health),
    path("media/public/<str:token>/<str:filename>", serve_public_media, name="public-media"),
    *([path("simulator/twilio/", include("channels_adapters.simulator.fake_twilio")),
       path("simulator/google/", include("channels_adapters.simulator.fake_google"))]
      if settings.HERON_FAKE_PROVIDERS else []),
    re_path(r"^(?!api/|admin/|webhooks/|anymail/|ws/|static/|media/).*$", web_inbox),
]
