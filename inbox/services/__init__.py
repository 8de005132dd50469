"""Heron's business rules: plain functions with typed arguments, each owning its transaction."""
