"""Accounts: their settings (no secrets), their secrets (keyring only) and their supervision."""
