from rest_framework.permissions import SAFE_METHODS, BasePermission

from inbox.selectors import can_reply, role_of


class IsHeronUser(BasePermission):
    message = "Your account has no Heron role; ask an admin to give you one."

    def has_permission(self, request, view):
        return role_of(request.user) is not None


class CanWorkConversations(BasePermission):
    """Marketers read everything and change nothing."""

    message = "Marketers have read-only access: you cannot reply to or change conversations."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or can_reply(request.user)


class IsAdmin(BasePermission):
    message = "Only admins can do this."

    def has_permission(self, request, view):
        return role_of(request.user) == "admin"


class IsAdminOrReadOnly(IsAdmin):
    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or super().has_permission(request, view)
