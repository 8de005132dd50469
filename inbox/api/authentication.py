"""`Authorization: Token <key>` for integrations and scripts."""

from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class HeronTokenAuthentication(TokenAuthentication):
    """DRF's token check, with the user's Heron profile in the same query: every request needs the role."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        try:
            token = model.objects.select_related("user__heron").get(key=key)
        except model.DoesNotExist:
            raise AuthenticationFailed("Invalid token.") from None
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return token.user, token
