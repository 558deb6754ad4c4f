"""Search strategies over a transition system: breadth-first search, replay."""
