"""The one family of errors the library raises; each message names what was read."""


class LvsArpError(Exception):
    """Base of every error the library raises on purpose."""


class ReadError(LvsArpError):
    """A kernel value, file or netlink answer could not be read or understood."""


class ConfigError(LvsArpError):
    """The caller asked for something the library cannot do (bad VIP, bad regex)."""


class DeadlineExceeded(LvsArpError):
    """The check ran out of the seconds it was given (-t) before it could judge."""


class ProbePermissionError(LvsArpError):
    """The ARP probe needs CAP_NET_RAW (a raw AF_PACKET socket) and the process lacks it."""
