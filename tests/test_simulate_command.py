"""`manage.py simulate` finds the server `make run` started, whatever its port, or the one `--url` names."""

import os
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from tests.test_embedded_default import ROOT

INBOUND = "/webhooks/simulator/inbound/"


def simulate(var_dir: Path, *options: str) -> subprocess.CompletedProcess:
    """From a shell of its own, as a person runs it beside `make run`: no PUBLIC_BASE_URL set."""
    env = {name: value for name, value in os.environ.items() if name not in ("PUBLIC_BASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(HERON_VAR_DIR=str(var_dir), DEBUG="1")
    return subprocess.run(
        [sys.executable, "manage.py", "simulate", *options, "simulator", "--from", "x", "--text", "hi"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def test_simulate_posts_to_the_port_make_run_started_on(tmp_path, httpserver: HTTPServer):
    httpserver.expect_request(INBOUND, method="POST").respond_with_data("", status=204)
    (tmp_path / "run-url").write_text(httpserver.url_for("/").rstrip("/") + "\n")  # as `make run PORT=…` leaves it
    result = simulate(tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{httpserver.url_for(INBOUND)} → 204" in result.stdout


def test_url_names_the_server(tmp_path, httpserver: HTTPServer):
    httpserver.expect_request(INBOUND, method="POST").respond_with_data("", status=204)
    (tmp_path / "run-url").write_text("http://127.0.0.1:9\n")  # a stale file: --url wins
    result = simulate(tmp_path, "--url", httpserver.url_for("/"))
    assert result.returncode == 0, result.stderr
    assert len(httpserver.log) == 1
