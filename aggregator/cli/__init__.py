"""The ``aggregator`` command line."""
