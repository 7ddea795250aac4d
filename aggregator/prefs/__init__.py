"""The user's preferences: settings as keys, logging on/off, the scheduled retention."""
