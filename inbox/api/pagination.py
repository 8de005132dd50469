from rest_framework.pagination import CursorPagination


class NewestFirst(CursorPagination):
    """Stable under inserts: a new message never shifts the page you are reading."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ByLastActivity(NewestFirst):
    ordering = ("-last_message_at", "-id")


class ContactsByName(NewestFirst):
    ordering = ("name", "id")
