"""ESGPortfolio: portfolio allocation under ESG regulation. ``env`` is the single env, ``vector`` the
native batched one, ``kernels`` their compiled trading day, ``market`` the price data."""

from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv, episode_metrics

__all__ = ["ESGPortfolioEnv", "episode_metrics"]
