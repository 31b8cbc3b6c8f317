"""Non-learning (or bandit) policies: heuristics, classical OR, oracles, random."""
