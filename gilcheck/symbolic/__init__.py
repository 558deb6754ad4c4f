"""Symbolic data: z3 over the unknown values of `param` and wide `any`."""
