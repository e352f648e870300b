"""lvs-arp-exporter: the Prometheus face of the library, served over HTTP(S)."""
