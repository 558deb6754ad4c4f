"""Search strategies over a transition system (explore/strategy.py, strategies.py): breadth-
first, depth-first, random walks, the parallel and Ray searches; and replay."""
