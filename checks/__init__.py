"""lvs-arp-check: is this node's ARP behaviour safe for LVS Direct Routing?"""

__version__ = "0.1.0"
