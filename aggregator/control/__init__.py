"""The local control socket: lets ``aggregator send`` hand a message to a running instance."""
