"""Benchmark protocol: runner, metrics, leaderboard schema and io, submissions, sweeps."""
