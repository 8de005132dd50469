"""`make run`'s embedded default: SQLite, no Redis, tasks inline. The rest of the suite runs on
PostgreSQL, where SQL that SQLite rejects would pass unnoticed (it once did: a label subquery with
`ORDER BY` inside `string_agg` broke the demo). Here a process of its own sets up a fresh SQLite
database the way `make run` does and reads it the way the inbox does."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

READ_THE_DEMO = """
import json
from django.db.models import Count
from django.test import Client
from inbox.models import Conversation, Label, Message
from django.contrib.auth import get_user_model

admin = get_user_model().objects.get(email="admin@heron.local")
conversation = Conversation.objects.filter(messages__direction="in").order_by("id").first()
conversation.labels.set(Label.objects.filter(name__in=["vip", "billing"]))
client = Client()
client.force_login(admin)
listed = client.get("/api/v1/conversations/")
timeline = client.get(f"/api/v1/contacts/{conversation.contact_id}/timeline/")
# Email threads on SQLite too: a reply without headers, by its base subject (a JSON lookup).
from channels_adapters.email.inbound import ingest_mime
from inbox.models import Inbox
from tests.support.email import mime

email_inbox = Inbox.objects.filter(channel="email").first()
for subject in ("Broken zipper", "Re: Broken zipper"):
    ingest_mime(email_inbox, mime(sender="Bo <bo@example.org>", to=email_inbox.address, subject=subject),
                url="/test", extra={})
threads = set(Message.objects.filter(identity__value="bo@example.org").values_list("conversation_id", flat=True))
# Maria wrote to Support and to Sales: a conversation per team; Sales's agent lists only theirs.
maria = Message.objects.filter(identity__value="maria.lopez").values_list("conversation__team__name", flat=True)
sol = Client()
sol.force_login(get_user_model().objects.get(email="sol@heron.local"))
print(json.dumps({
    "maria_teams": sorted(set(maria)),
    "sales_list": [c["contact"]["name"] for c in sol.get("/api/v1/conversations/").json()["results"]],
    "email_threads": len(threads),
    "list": listed.status_code, "timeline": timeline.status_code,
    "labels": [c["labels"] for c in listed.json()["results"] if c["id"] == conversation.pk],
    "customers_with_several_messages": Message.objects.filter(direction="in").values("contact")
        .annotate(n=Count("id")).filter(n__gt=1).count(),
}))
"""


def run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    # Nothing of the test run's own (tests/settings.py): the development secrets, as `make run` has them.
    unset = ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "FIELD_ENCRYPTION_KEY",
             "ANYMAIL_WEBHOOK_SECRET")
    env = {name: value for name, value in os.environ.items() if name not in unset}
    env.update(HERON_VAR_DIR=str(tmp_path), DEBUG="1", ALLOWED_HOSTS="testserver", LOG_LEVEL="WARNING")
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_demo_sets_up_and_reads_on_sqlite(tmp_path):
    run(["manage.py", "migrate", "--noinput"], tmp_path)
    assert "Heron demo is ready" in run(["manage.py", "seed_demo"], tmp_path).stdout
    assert (tmp_path / "heron.sqlite3").exists()

    output = run(["manage.py", "shell", "-c", READ_THE_DEMO], tmp_path).stdout
    read = json.loads(output.strip().splitlines()[-1])
    assert (read["list"], read["timeline"]) == (200, 200)
    assert read["labels"] == [["billing", "vip"]]
    assert read["email_threads"] == 1
    assert read["maria_teams"] == ["Sales", "Support"] and read["sales_list"] == ["Maria Lopez"]
    # The demo's customers write more than once: the open-conversation pick ran on SQLite.
    assert read["customers_with_several_messages"] >= 1
