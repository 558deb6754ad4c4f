"""Traces: the steps of a counterexample and the wait-for explanation of its last state."""
