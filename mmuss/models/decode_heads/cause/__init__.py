"""CAUSE internals: clusterbook, concept bank, quantisation, projection, TR decoder."""
