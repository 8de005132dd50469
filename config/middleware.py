"""Request checks that hold for every view."""

from django.http import JsonResponse


def refuse_nul_in_query_string(get_response):
    """A query string with a NUL character (`%00`) is a 400: no field of ours can hold one, and
    PostgreSQL cannot even compare a column with one (a search for it was a 500)."""

    def middleware(request):
        if any("\x00" in name or any("\x00" in value for value in values) for name, values in request.GET.lists()):
            return JsonResponse({"detail": "Query parameters must not contain NUL characters."}, status=400)
        return get_response(request)

    return middleware
