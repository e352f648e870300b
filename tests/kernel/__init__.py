"""Real-kernel tests: LVS-DR ARP behaviour seen on the wire between two network namespaces."""
