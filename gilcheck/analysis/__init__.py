"""From an explored state space to verdicts, wait-for explanations and narrated traces."""
