"""MongoDB adapters (PyMongo's async API). The only package that imports pymongo."""
