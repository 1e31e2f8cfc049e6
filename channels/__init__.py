"""Channel adapters: one sub-package per way customers reach us, all behind the hub's ports."""
