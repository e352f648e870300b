"""The one way the exporter's web server refuses to start."""


class ServeError(Exception):
    """The server cannot start: a bad listen address or telemetry path, or a failed bind."""
