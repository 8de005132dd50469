"""Google Business Messages (retired by Google on 2024-07-31; see docs/google.md): webhook, parsing, sending."""

# The public contract: the partner's webhook URL in the Business Communications console.
WEBHOOK_PATH = "/webhooks/google/business-messages/"
SIGNATURE_HEADER = "X-Goog-Signature"
