"""AST to Program: names resolved to slots, constants folded, bodies lowered to a flat IR."""
