"""No input makes the API answer 500: schemathesis generates requests from our own OpenAPI schema."""

import json

import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given, settings

from inbox.services.people import token_for

SCHEMA = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
OPERATIONS = {op.label: op for op in (result.ok() for result in SCHEMA.get_all_operations())}
# A file download, not a JSON endpoint.
SKIPPED = {"GET /api/v1/attachments/{id}/"}


@pytest.fixture
def world(admin, inbox, customer_writes):
    """Something to find: a contact, a conversation with messages, so ids in paths sometimes exist."""
    message = customer_writes(inbox, "fuzzy", "hello", name="Fuzzy Customer")
    return {"token": token_for(admin), "message": message}


@pytest.mark.parametrize("label", sorted(set(OPERATIONS) - SKIPPED))
def test_generated_requests_never_get_a_server_error(label, world, client, django_capture_on_commit_callbacks):
    operation = OPERATIONS[label]

    @settings(max_examples=12, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def check(case):
        kwargs = case.as_transport_kwargs(base_url="")
        headers = {k: v for k, v in kwargs.get("headers", {}).items()
                   if k.lower() not in {"authorization", "cookie", "content-type", "content-length"}}
        headers["Authorization"] = f"Token {world['token']}"
        body = kwargs.get("json")
        response = client.generic(
            kwargs["method"], kwargs["url"], data=b"" if body is None else json.dumps(body),
            content_type="application/json", headers=headers, QUERY_STRING=_query(kwargs.get("params") or {}),
        )
        assert response.status_code < 500, (label, kwargs, response.content[:500])

    with django_capture_on_commit_callbacks(execute=False):
        check()


def _query(params: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(params, doseq=True)
