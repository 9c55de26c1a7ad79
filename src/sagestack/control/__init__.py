"""The reconciler and its controllers: they turn desired state in the store into real work."""
