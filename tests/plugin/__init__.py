"""check_lvs_arp run as Nagios runs it: a subprocess, judged by exit code and output."""
