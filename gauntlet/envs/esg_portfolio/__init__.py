"""ESGPortfolio: portfolio allocation under ESG regulation. ``env`` is the env, ``market`` its price data."""

from gauntlet.envs.esg_portfolio.env import ESGPortfolioEnv, episode_metrics

__all__ = ["ESGPortfolioEnv", "episode_metrics"]
