"""Google Business Profile reviews (API v4): polling reviews in as messages, replying to them. See docs/google.md."""
