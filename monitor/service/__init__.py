"""The service: wiring of the parts (`app`), the daemon loop, signals and sd_notify,
revisits of alerted articles, logging."""
