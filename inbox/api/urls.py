from django.urls import include, path
from rest_framework.routers import SimpleRouter

from inbox.api import views

router = SimpleRouter(trailing_slash=True)
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("inboxes", views.InboxViewSet, basename="inbox")
router.register("agents", views.AgentViewSet, basename="agent")
router.register("teams", views.TeamViewSet, basename="team")
router.register("labels", views.LabelViewSet, basename="label")
router.register("canned-responses", views.CannedResponseViewSet, basename="canned-response")

urlpatterns = [
    path("auth/csrf/", views.csrf),
    path("auth/login/", views.login_view),
    path("auth/logout/", views.logout_view),
    path("me/", views.me),
    path("events/", views.EventsView.as_view()),
    path("attachments/<int:pk>/", views.AttachmentView.as_view()),
    path("messages/<int:pk>/original/", views.MessageOriginalView.as_view()),
    path("", include(router.urls)),
]
