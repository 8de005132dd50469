from django.conf import settings

from inbox.adapters import NoAdapter, get_adapter
from inbox.models import Inbox


def webhook_urls_for(inbox: Inbox) -> dict[str, str]:
    """The exact URLs to paste into the provider's console: they are part of the signature."""
    try:
        paths = get_adapter(inbox.channel).webhook_paths
    except NoAdapter:
        return {}
    return {name: settings.PUBLIC_BASE_URL + path for name, path in paths.items()}
