"""Browser security over real HTTP: the CSP header, https-only cookies and HSTS when PUBLIC_BASE_URL is
https, CSRF on sign-in, the sign-in lock-out's client address behind proxies, password rules, and the
API docs served without a CDN."""

from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model

from inbox.services.people import token_for
from tests.conftest import PASSWORD
from tests.support.servers import ROOT, Server, child_env

PUBLIC = "https://heron.example"


@pytest.fixture(scope="module")
def proxied_server(django_db_setup, django_db_blocker):
    """Heron behind a TLS-terminating proxy on this machine: https public URL, the proxy trusted."""
    server = Server(PUBLIC_BASE_URL=PUBLIC, HERON_TRUSTED_PROXIES="127.0.0.1/32", HERON_SIGN_IN_FAILURE_LIMIT="3")
    yield server
    server.stop()


@pytest.fixture
def proxy(proxied_server, transactional_db):
    """What the proxy sends on for a client at `address`; secure cookies are passed by hand (this leg is http)."""

    def send(method: str, path: str, address: str, *, cookies: dict[str, str] | None = None, **kwargs):
        headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https", "Origin": PUBLIC,
                   **kwargs.pop("headers", {})}
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        return httpx.request(method, proxied_server.url + path, headers=headers, timeout=10, **kwargs)

    return send


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def csrf_token(response: httpx.Response) -> str:
    return re.match(r"csrftoken=([^;]+)", set_cookies(response)["csrftoken"]).group(1)


def sign_in_through(proxy, address: str, password: str) -> httpx.Response:
    token = csrf_token(proxy("GET", "/api/v1/auth/csrf/", address))
    return proxy("POST", "/api/v1/auth/login/", address, cookies={"csrftoken": token},
                 headers={"X-CSRFToken": token}, json={"email": "ana@example.com", "password": password})


def test_every_page_has_a_tight_content_security_policy(server):
    policy = httpx.get(server.url + "/", timeout=10).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert "unsafe-inline" not in directives["script-src"] + directives["style-src"] and "unsafe-eval" not in policy
    # Only style attributes (an email's formatting, reduced by the sanitizer) may be inline.
    assert directives["style-src-attr"] == "'unsafe-inline'"


def test_only_an_https_public_url_brings_hsts_and_secure_cookies(server, proxy, agent):
    plain = httpx.get(server.url + "/", timeout=10)
    assert "strict-transport-security" not in plain.headers
    assert "secure" not in set_cookies(plain)["csrftoken"].lower()

    page = proxy("GET", "/", "203.0.113.7")
    assert page.headers["strict-transport-security"] == "max-age=31536000"  # a year, no subdomains
    assert "; Secure" in set_cookies(page)["csrftoken"]
    signed_in = sign_in_through(proxy, "203.0.113.7", PASSWORD)
    assert signed_in.status_code == 200, signed_in.text
    session = set_cookies(signed_in)["sessionid"]
    assert "; Secure" in session and "; HttpOnly" in session


def test_sign_in_needs_the_csrf_token_a_cross_site_post_lacks(server, agent):
    for body in ({"data": {"email": "ana@example.com", "password": PASSWORD}},  # an HTML form's post
                 {"json": {"email": "ana@example.com", "password": PASSWORD}}):
        refused = httpx.post(server.url + "/api/v1/auth/login/", headers={"Origin": "https://evil.example"},
                             timeout=10, **body)
        assert refused.status_code == 403
        assert refused.json()["detail"].startswith("CSRF Failed")
        assert "sessionid" not in set_cookies(refused)

    with httpx.Client(base_url=server.url, timeout=10) as browser:  # the web inbox asks for the token first
        token = browser.get("/api/v1/auth/csrf/").cookies["csrftoken"]
        signed_in = browser.post("/api/v1/auth/login/", json={"email": "ana@example.com", "password": PASSWORD},
                                 headers={"X-CSRFToken": token, "Origin": server.url})
        assert signed_in.status_code == 200, signed_in.text
        assert browser.get("/api/v1/me/").json()["email"] == "ana@example.com"

    created = httpx.post(server.url + "/api/v1/contacts/", json={"name": "Lead Lee"}, timeout=10,
                         headers={"Authorization": f"Token {token_for(agent)}", "Origin": "https://evil.example"})
    assert created.status_code == 201, created.text  # integrations with a token need no CSRF token


def test_a_new_x_forwarded_for_per_attempt_does_not_escape_the_lock_out(server, agent):
    """No trusted proxies (the default): the peer's address counts, whatever the request claims."""
    with httpx.Client(base_url=server.url, timeout=10) as browser:
        token = browser.get("/api/v1/auth/csrf/").cookies["csrftoken"]

        def sign_in(password: str, claimed: str) -> httpx.Response:
            return browser.post("/api/v1/auth/login/", json={"email": "ana@example.com", "password": password},
                                headers={"X-CSRFToken": token, "X-Forwarded-For": claimed})

        for attempt in range(settings.AXES_FAILURE_LIMIT):  # the server's, from the same environment
            assert sign_in("nope", f"198.51.100.{attempt}").status_code in (400, 429)
        assert sign_in(PASSWORD, "198.51.100.200").status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_client_is_locked_out_and_no_one_else(proxy, agent):
    for attempt in range(3):
        # What the client claims stands left of the address the proxy saw, and changes nothing.
        assert sign_in_through(proxy, f"198.51.100.{attempt}, 203.0.113.7", "nope").status_code in (400, 429)
    assert sign_in_through(proxy, "198.51.100.99, 203.0.113.7", PASSWORD).status_code == 429
    assert sign_in_through(proxy, "203.0.113.8", PASSWORD).status_code == 200


def test_create_agent_refuses_a_weak_password_with_the_validators_words(transactional_db):
    done = subprocess.run([sys.executable, "manage.py", "create_agent", "weak@example.com", "--password", "a"],
                          cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "This password is too short. It must contain at least 10 characters." in done.stderr
    assert not get_user_model().objects.filter(email="weak@example.com").exists()


def test_the_admin_refuses_a_weak_password(client_for, admin):
    response = client_for(admin).post("/admin/auth/user/add/", {
        "username": "numbers@example.com", "usable_password": "true",
        "password1": "4815162342", "password2": "4815162342",
    })
    assert response.status_code == 200  # the form again, with the errors
    assert "This password is entirely numeric." in response.text
    assert not get_user_model().objects.filter(username="numbers@example.com").exists()


def test_api_docs_name_no_external_host(server):
    page = httpx.get(server.url + "/api/docs/", timeout=10)
    assert page.status_code == 200
    hosts = set(re.findall(r"(?:https?:)?//([\w.-]+)", page.text))
    assert hosts == set(), hosts
    script = httpx.get(server.url + "/api/docs/?script=", timeout=10)
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text
    assert "validatorUrl" in script.text and not re.search(r"https?://", script.text)
