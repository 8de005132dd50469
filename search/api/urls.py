from django.urls import path
from rest_framework.routers import SimpleRouter

from search.api import views

router = SimpleRouter(trailing_slash=True)
router.register("saved-views", views.SavedViewViewSet, basename="saved-view")

urlpatterns = [path("search/", views.SearchView.as_view()), *router.urls]
