"""Program to transition system: states, the successor function and every primitive's rules."""
