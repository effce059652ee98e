"""The demo: a local simulator of fictional outlets and `monitor demo`, the whole job offline."""
