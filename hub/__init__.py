"""The hub's core: domain, ports, state machine, storage, settings and the composition root."""
