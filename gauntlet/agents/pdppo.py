"""Post-Decision Proximal Policy Optimization (PDPPO) with dual critics.

Paper: L. K. Felizardo, E. Fadda, P. Brandimarte, E. Del-Moral-Hernandez, M. C. V. Nascimento,
"A Reinforcement Learning Method for Environments with Stochastic Variables: Post-Decision
Proximal Policy Optimization with Dual Critic Networks", IJCNN 2025, arXiv 2504.05150.

PDPPO splits each transition ``s_t --a_t--> s^x_t --demand--> s_{t+1}`` into a deterministic
step to the post-decision state ``s^x_t`` (production and setups) and a stochastic step
(demand). Two reward streams, on ONE scale (below):

- ``r_t`` the env's whole reward ``-(setup_t + lost_sales_t + holding_t + overflow_t)``,
- ``r^x_t = -setup_t`` its deterministic part, paid in the step to ``s^x_t``;

with ``R_t = sum_k gamma^k r_{t+k}`` and ``R^x_t = sum_k gamma^k r^x_{t+k}`` their returns. Two
critics, each with its own optimizer: ``V(s)`` on the state and ``V^x(s^x)`` on the
post-decision state. ``advantage`` chooses what the actor follows and what the critics fit:

- ``"authors"`` (default; the authors' latest PDPPO.py)::

      A_t = max(R_t - V(s_t), R^x_t - V^x(s^x_t))      V <- R_t,  V^x <- R^x_t

- ``"post-decision"`` (the textbook post-decision-state form)::

      A_t = r^x_t + V^x(s^x_t) - V(s_t)                 V <- R_t,  V^x <- R_t - r^x_t

  ``V^x(s^x_t)`` estimates what follows the decision, ``E[r_t - r^x_t + gamma V(s_{t+1}) | s^x_t]``,
  so ``r^x_t + V^x(s^x_t)`` is ``Q(s_t, a_t)`` and ``V(s_t)`` the baseline.

- One critic (``dual_critic=False``; ``advantage`` must be ``"authors"``): only ``V^x`` is
  kept, fitted to the whole return, and ``A_t = R_t - V^x(s^x_t)`` (the spec's "single critic
  on s^x"). The authors' older code instead keeps both critics and uses
  ``A_t = R_t - min(V(s_t), V^x(s^x_t))``; that variant is not offered.

Why ``V^x(s^x_t)`` as a *baseline* can cancel the action's effect: ``s^x_t`` is a deterministic
function of ``(s_t, a_t)``, so ``V^x(s^x_t)`` is an action-dependent baseline, a Q-function in
disguise. If it were exact for the return it is subtracted from, ``R - V^x(s^x_t)`` would have
mean zero for EVERY action: the part of the return that tells a good action from a bad one is
subtracted away, the policy gradient keeps only the noise around it, and it is biased
(``E[grad log pi(a|s) b(s, a)] != 0`` for a baseline ``b`` that depends on ``a``). In ``"authors"``
(the ``R^x`` stream) and in the one-critic variant, ``V^x(s^x_t)`` is used so; only the part of
``r^x_t`` that ``s^x_t`` does not determine (the setup cost depends on the previous setup, which
``s^x`` does not hold) and the noise survive. ``"post-decision"`` puts ``V^x(s^x_t)`` on the other
side, as the action's value, with the state-only baseline ``V(s_t)``: unbiased when the critics
are exact.

Scale: both streams are divided by ONE number, the running standard deviation of the
discounted WHOLE return (as SB3's ``VecNormalize(norm_reward=True)`` computes it), so a unit of
setup cost weighs the same as a unit of lost sales in the max; the critics fit the scaled
returns and the actor's advantages are standardized per batch. ``gae_lambda < 1`` replaces
every return above by the GAE(lambda) return with the same critics; ``gae_lambda = 1`` (the
default) gives exactly the formulas above.

The actor is a factorized categorical policy: one softmax over ``{idle, item 1..I}`` per
machine from a shared ReLU MLP trunk; masked actions get logit -1e8 (probability exactly 0).
The critics are Tanh MLPs, as in the authors' code.

What the agent needs from the env: ``info["post_decision_state"]`` (same layout as the
observation) and ``info["cost"]["setup"]`` after every step, ``info["action_mask"]``
(sb3-contrib layout) after reset and step when actions are masked, and, to bootstrap ``V^x``
when a rollout ends inside an episode, a batched ``env.unwrapped.post_decision(states,
actions)`` method. ``gauntlet/LotSizing-*`` provides all of them. With ``n_envs > 1`` the
rollouts come from the env's native vector env (``gym.make_vec(...,
vectorization_mode="vector_entry_point")``), one batched forward pass per step for all copies.

Reproduced from the paper: the two-step transition, the two critics on ``s`` and ``s^x``,
the max-advantage of the authors' code, separate critic optimizers, the clipped surrogate, the
factorized categorical actor, and the paper's hyperparameters as defaults (gamma 0.90, clip 0.2,
40 epochs, actor lr 5.5e-4, critic lr 1e-3, update every 400 steps, MLP 128-128, entropy 0.001).

What differs from the authors' code:

- Reward scaling: the authors' latest version uses raw rewards in the max-advantage (an older
  one standardizes the returns per batch); we divide both streams by the one running std above.
  Advantages are standardized per batch.
- Masked logits (the authors' env lets a machine "produce" an item it cannot make);
  orthogonal initialization; gradient-norm clipping at ``max_grad_norm`` (authors: 1.0) and
  no weight decay (authors: 1e-3); minibatches of ``batch_size`` (default: the whole
  rollout, as the authors).
- An episode end (terminated or truncated) is not bootstrapped: LotSizing's horizon is part
  of the problem and the observation carries no clock, as in the authors' code.

Only plain callables are accepted as ``callback``: SB3 ``BaseCallback`` objects need an SB3
model to attach to and are rejected with a ``TypeError``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.running_mean_std import RunningMeanStd
from torch import nn

from gauntlet.agents.progress import TrainingProgress
from gauntlet.agents.tensorboard import ScalarLog

# /2: one reward scale and the advantage option; /1 files (per-stream scales) are another algorithm.
_FORMAT = "gauntlet-pdppo/2"
# Effectively -inf (softmax gives exactly 0 in float32) but keeps p * log p and its gradient
# finite for masked choices, as sb3-contrib's MaskableCategorical does.
_MASKED_LOGIT = -1e8


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    last_values: np.ndarray,
    dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> np.ndarray:
    """Generalized advantage estimates for arrays of shape (T, N).

    ``dones[t]`` is True when transition ``t`` ended its episode (no bootstrap through it);
    ``last_values`` (N,) is the value of the state after the last transition. With
    ``gae_lambda = 1`` this is the discounted return minus ``values``.
    """
    advantages = np.zeros_like(rewards, dtype=np.float64)
    running = np.zeros_like(last_values, dtype=np.float64)
    for t in reversed(range(len(rewards))):
        next_values = last_values if t == len(rewards) - 1 else values[t + 1]
        nonterminal = 1.0 - dones[t]
        delta = rewards[t] + gamma * nonterminal * next_values - values[t]
        running = delta + gamma * gae_lambda * nonterminal * running
        advantages[t] = running
    return advantages


ADVANTAGES = ("authors", "post-decision")


def pdppo_advantages(
    rewards: np.ndarray,
    setup_rewards: np.ndarray,
    values: np.ndarray | None,
    post_values: np.ndarray,
    last_values: np.ndarray | None,
    last_post_values: np.ndarray | None,
    dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
    advantage: str = "authors",
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """PDPPO advantages and critic targets for arrays of shape (T, N) (module docstring).

    ``rewards`` is the whole reward ``r``, ``setup_rewards`` its deterministic part ``r^x``, both
    on one scale; ``values`` / ``post_values`` are ``V(s_t)`` / ``V^x(s^x_t)``, ``last_values`` /
    ``last_post_values`` (N,) their values after the last step (``last_post_values`` is unused by
    ``"post-decision"``). Returns ``(A, targets of V, targets of V^x)``:

    - ``values is None`` (one critic): ``(R - V^x, None, R)``;
    - ``"authors"``: ``(max(R - V, R^x - V^x), R, R^x)``;
    - ``"post-decision"``: ``(r^x + V^x - V, R, R - r^x)``;

    with GAE(lambda) returns in place of ``R`` and ``R^x`` when ``gae_lambda < 1``.
    """
    if advantage not in ADVANTAGES:
        raise ValueError(f"advantage={advantage!r} is not known; allowed: {', '.join(map(repr, ADVANTAGES))}")
    if values is None:
        if advantage != "authors":
            raise ValueError(f"advantage={advantage!r} needs V(s): the one-critic variant only has 'authors'")
        post_adv = gae(rewards, post_values, last_post_values, dones, gamma, gae_lambda)
        return post_adv, None, post_adv + post_values
    returns = gae(rewards, values, last_values, dones, gamma, gae_lambda) + values
    if advantage == "post-decision":
        return setup_rewards + post_values - values, returns, returns - setup_rewards
    post_adv = gae(setup_rewards, post_values, last_post_values, dones, gamma, gae_lambda)
    return np.maximum(returns - values, post_adv), returns, post_adv + post_values


def _mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int, activation: type[nn.Module], out_gain: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for size in hidden_sizes:
        linear = nn.Linear(in_dim, size)
        nn.init.orthogonal_(linear.weight, np.sqrt(2))
        nn.init.zeros_(linear.bias)
        layers += [linear, activation()]
        in_dim = size
    head = nn.Linear(in_dim, out_dim)
    nn.init.orthogonal_(head.weight, out_gain)
    nn.init.zeros_(head.bias)
    return nn.Sequential(*layers, head)


def _adam(net: nn.Module, lr: float) -> torch.optim.Adam:
    # The paper's 40 epochs x 3 small networks make the optimizer steps a large share of the
    # update; the fused kernel does each in one call instead of a loop over the parameters.
    return torch.optim.Adam(net.parameters(), lr=lr, fused=True)


@dataclass
class _Rollout:
    obs: torch.Tensor
    post_obs: torch.Tensor
    masks: torch.Tensor
    actions: torch.Tensor
    logprobs: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor | None
    post_returns: torch.Tensor


class _SingleEnv:
    """A single ``gym.Env`` seen as a batch of one; resets in the same step as ``done``."""

    num_envs = 1

    def __init__(self, env: gym.Env) -> None:
        self.env = env

    def reset(self, seed: int | None = None) -> tuple[np.ndarray, dict]:
        obs, info = self.env.reset(seed=seed)
        return np.asarray(obs)[None], _batch_info(info)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        obs, reward, terminated, truncated, info = self.env.step(actions[0])
        info = _batch_info(info)
        if terminated or truncated:
            obs, reset_info = self.env.reset()
            info["action_mask"] = _batch_info(reset_info).get("action_mask")
        return (np.asarray(obs)[None], np.array([reward]), np.array([terminated]), np.array([truncated]), info)


def _batch_info(info: dict) -> dict:
    out: dict[str, Any] = {}
    if "action_mask" in info:
        out["action_mask"] = np.asarray(info["action_mask"])[None]
    if "post_decision_state" in info:
        out["post_decision_state"] = np.asarray(info["post_decision_state"])[None]
    if "cost" in info:
        out["cost"] = {k: np.asarray([v]) for k, v in info["cost"].items()}
    return out


class PDPPO:
    """PDPPO agent (SB3-shaped): ``learn``, ``predict``, ``save``, ``load``.

    Args:
        env: a Gymnasium env with a ``MultiDiscrete`` action space and a flat ``Box``
            observation that reports ``info["post_decision_state"]`` and ``info["cost"]["setup"]``.
        seed: seeds torch (weights, sampling), the minibatch order and the env's first reset.
        dual_critic: ``True`` for PDPPO (critics on ``s`` and ``s^x``), ``False`` for the
            one-critic variant (a single critic on ``s^x``).
        gamma: discount factor in [0, 1].
        gae_lambda: GAE lambda in [0, 1]; 1.0 = Monte-Carlo returns as in the paper.
        advantage: ``"authors"`` (``max(R - V(s), R^x - V^x(s^x))``) or ``"post-decision"``
            (``r^x + V^x(s^x) - V(s)``, dual critic only); see the module docstring.
        clip_range: PPO clipping epsilon (> 0).
        n_epochs: optimization epochs per rollout (>= 1).
        actor_lr, critic_lr: Adam learning rates (> 0); every critic has its own optimizer.
        n_steps: steps per env copy between updates (>= 1).
        batch_size: minibatch size in [1, n_steps * n_envs]; ``None`` = the whole rollout.
        hidden_sizes: hidden layer widths of the actor trunk and of each critic.
        ent_coef: entropy bonus coefficient (>= 0).
        max_grad_norm: gradient-norm clip per network (> 0).
        n_envs: env copies; > 1 uses ``gym.make_vec(env.spec.id, num_envs=n_envs,
            vectorization_mode="vector_entry_point")`` when the env's spec has a vector entry point.
        tensorboard_log: directory for TensorBoard scalars (``None`` = off).
        verbose: 0 silent, 1 prints one line per update.
        device: torch device.
    """

    def __init__(
        self,
        env: gym.Env,
        seed: int = 0,
        dual_critic: bool = True,
        gamma: float = 0.90,
        gae_lambda: float = 1.0,
        advantage: str = "authors",
        clip_range: float = 0.2,
        n_epochs: int = 40,
        actor_lr: float = 5.5e-4,
        critic_lr: float = 1e-3,
        n_steps: int = 400,
        batch_size: int | None = None,
        hidden_sizes: Sequence[int] = (128, 128),
        ent_coef: float = 0.001,
        max_grad_norm: float = 0.5,
        n_envs: int = 1,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        device: str = "cpu",
    ) -> None:
        hyperparameters = dict(
            seed=int(seed), dual_critic=bool(dual_critic), advantage=advantage, gamma=float(gamma), gae_lambda=float(gae_lambda),
            clip_range=float(clip_range), n_epochs=int(n_epochs), actor_lr=float(actor_lr),
            critic_lr=float(critic_lr), n_steps=int(n_steps), batch_size=None if batch_size is None else int(batch_size),
            hidden_sizes=[int(h) for h in hidden_sizes], ent_coef=float(ent_coef),
            max_grad_norm=float(max_grad_norm), n_envs=int(n_envs), tensorboard_log=tensorboard_log,
            verbose=int(verbose), device=str(device),
        )
        self._setup(env.observation_space, env.action_space, hyperparameters)
        self._attach_env(env)

    # ------------------------------------------------------------------ construction
    def _setup(self, observation_space: gym.Space, action_space: gym.Space, hp: dict[str, Any]) -> None:
        _validate(hp, action_space, observation_space)
        self.hyperparameters = hp
        for name, value in hp.items():
            setattr(self, name, value)
        self.observation_space = observation_space
        self.action_space = action_space
        self.nvec = np.asarray(action_space.nvec, dtype=np.int64).ravel()
        self._n_choices = int(self.nvec.max())
        # Machines with fewer choices than the widest one get their padding logits masked.
        self._valid_choices = torch.as_tensor(np.arange(self._n_choices)[None, :] < self.nvec[:, None])
        offsets = np.concatenate([[0], np.cumsum(self.nvec)[:-1]])
        self._pad_index = np.minimum(offsets[:, None] + np.arange(self._n_choices)[None, :], int(self.nvec.sum()) - 1)
        obs_dim = int(np.prod(observation_space.shape))
        self.device = torch.device(hp["device"])

        torch.manual_seed(self.seed)
        self._torch_gen = torch.Generator().manual_seed(self.seed)
        self._np_rng = np.random.default_rng(self.seed)
        sizes = tuple(self.hidden_sizes)
        self.actor = _mlp(obs_dim, sizes, len(self.nvec) * self._n_choices, nn.ReLU, 0.01).to(self.device)
        self.critic_post = _mlp(obs_dim, sizes, 1, nn.Tanh, 1.0).to(self.device)
        self.actor_optimizer = _adam(self.actor, self.actor_lr)
        self.critic_post_optimizer = _adam(self.critic_post, self.critic_lr)
        self.critic: nn.Module | None = None
        self.critic_optimizer: torch.optim.Optimizer | None = None
        if self.dual_critic:
            self.critic = _mlp(obs_dim, sizes, 1, nn.Tanh, 1.0).to(self.device)
            self.critic_optimizer = _adam(self.critic, self.critic_lr)
        self._networks = [n for n in (self.actor, self.critic_post, self.critic) if n is not None]
        self._optimizers = [o for o in (self.actor_optimizer, self.critic_post_optimizer, self.critic_optimizer) if o is not None]
        # One scale for both reward streams: the running std of the discounted whole return.
        self._return_stats = RunningMeanStd(shape=())

        self.num_timesteps = 0
        self.episode_log: list[tuple[int, float]] = []
        self.env: gym.Env | None = None
        self._vec: Any = None
        self._eval_mask: np.ndarray | None = None
        self._tensorboard = ScalarLog(self.tensorboard_log, "PDPPO" if self.dual_critic else "PDPPO-1critic")

    def _attach_env(self, env: gym.Env | None) -> None:
        self.env = env
        self._vec = None
        self._last_obs: np.ndarray | None = None

    def _make_vec(self) -> Any:
        env = self.env
        if self.n_envs > 1:
            spec = env.spec
            if spec is not None and spec.vector_entry_point is not None:
                vec = gym.make_vec(spec.id, num_envs=self.n_envs, vectorization_mode="vector_entry_point", **spec.kwargs)
                mode = gym.vector.AutoresetMode(vec.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP))
                if mode is not gym.vector.AutoresetMode.NEXT_STEP:
                    raise ValueError(f"PDPPO needs a vector env with NEXT_STEP autoreset, {spec.id!r} has {mode}")
                return vec
            warnings.warn(
                f"n_envs={self.n_envs} needs an env spec with a vector_entry_point; "
                "collecting from the single env given instead", stacklevel=3,
            )
            self.n_envs = 1
            self.hyperparameters["n_envs"] = 1
        return _SingleEnv(env)

    # ------------------------------------------------------------------ policy
    def _logits(self, obs: torch.Tensor, masks: torch.Tensor | None) -> torch.Tensor:
        logits = self.actor(obs).view(obs.shape[0], len(self.nvec), self._n_choices)
        valid = self._valid_choices.to(obs.device).expand_as(logits)
        if masks is not None:
            valid = valid & masks
        return logits.masked_fill(~valid, _MASKED_LOGIT)

    def _masks_tensor(self, masks: np.ndarray | None, batch: int) -> torch.Tensor | None:
        """Flattened sb3-contrib masks (B, sum(nvec)) -> padded boolean tensor (B, M, K)."""
        if masks is None:
            return None
        flat = np.asarray(masks, dtype=bool).reshape(batch, -1)
        if flat.shape[1] != int(self.nvec.sum()):
            raise ValueError(f"action_masks must have {int(self.nvec.sum())} entries per observation, got {flat.shape[1]}")
        return torch.as_tensor(flat[:, self._pad_index] & self._valid_choices.numpy(), device=self.device)

    def _sample(self, logits: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(logits, dim=-1).reshape(-1, self._n_choices).cpu()
        return torch.multinomial(probs, 1, generator=self._torch_gen).view(logits.shape[:2]).to(logits.device)

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: np.ndarray | None = None,
        deterministic: bool = True,
        action_masks: np.ndarray | None = None,
    ) -> tuple[np.ndarray, Any]:
        """Action(s) for one observation (shape ``obs_shape``) or a batch (``(B, *obs_shape)``).

        ``action_masks`` (sb3-contrib layout, one row per observation) restricts the choice;
        without it, the mask seen by ``on_reset``/``on_step`` is used for single observations.
        """
        obs = np.asarray(observation, dtype=np.float32)
        obs_shape = self.observation_space.shape
        single = obs.shape == obs_shape
        if not single and obs.shape[1:] != obs_shape:
            raise ValueError(f"observation must have shape {obs_shape} or (batch, *{obs_shape}), got {obs.shape}")
        batch = obs.reshape(-1, int(np.prod(obs_shape)))
        if action_masks is None and single:
            action_masks = self._eval_mask
        with torch.no_grad():
            obs_t = torch.as_tensor(batch, device=self.device)
            logits = self._logits(obs_t, self._masks_tensor(action_masks, len(batch)))
            actions = logits.argmax(-1) if deterministic else self._sample(logits)
        actions_np = actions.cpu().numpy().astype(self.action_space.dtype)
        return (actions_np[0] if single else actions_np), state

    def on_reset(self, env: gym.Env, observation: Any, info: dict) -> None:
        self._eval_mask = info.get("action_mask")

    def on_step(self, observation: Any, reward: Any, terminated: bool, truncated: bool, info: dict) -> None:
        self._eval_mask = info.get("action_mask")

    # ------------------------------------------------------------------ rollouts
    def _values(self, critic: nn.Module, obs: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return critic(torch.as_tensor(obs, dtype=torch.float32, device=self.device)).squeeze(-1).cpu().numpy()

    def _collect(self) -> tuple[_Rollout, list[float]]:
        n, e = self.n_steps, self.n_envs
        obs_dim = int(np.prod(self.observation_space.shape))
        width = int(self.nvec.sum())
        obs_buf = np.zeros((n, e, obs_dim), np.float32)
        post_buf = np.zeros((n, e, obs_dim), np.float32)
        mask_buf = np.ones((n, e, width), bool)
        act_buf = np.zeros((n, e, len(self.nvec)), np.int64)
        logp_buf = np.zeros((n, e), np.float32)
        rew_buf = np.zeros((n, e, 2), np.float64)  # [whole, setup part] raw rewards
        done_buf = np.zeros((n, e), np.float64)
        valid_buf = np.ones((n, e), bool)
        finished: list[float] = []

        for t in range(n):
            obs_buf[t] = self._last_obs.reshape(e, obs_dim)
            mask_buf[t] = self._last_mask
            # With NEXT_STEP autoreset, the step after an episode end only resets that copy.
            valid_buf[t] = ~self._last_done
            with torch.no_grad():
                logits = self._logits(torch.as_tensor(obs_buf[t], device=self.device), self._masks_tensor(mask_buf[t], e))
                actions = self._sample(logits)
                logp = torch.log_softmax(logits, -1).gather(-1, actions.unsqueeze(-1)).squeeze(-1)
                logp_buf[t] = logp.sum(-1).cpu().numpy()
            act_buf[t] = actions.cpu().numpy()
            obs, reward, terminated, truncated, info = self._vec.step(act_buf[t].astype(self.action_space.dtype))
            setup = _step_field(info, ("cost", "setup"), valid_buf[t], (e,))
            post_buf[t] = _step_field(info, ("post_decision_state",), valid_buf[t], (e, obs_dim))
            reward = np.asarray(reward, dtype=np.float64)
            rew_buf[t, :, 0] = reward
            rew_buf[t, :, 1] = -setup
            done = np.logical_or(terminated, truncated)
            done_buf[t] = done
            self._episode_return += np.where(valid_buf[t], reward, 0.0)
            self.num_timesteps += int(valid_buf[t].sum())
            for i in np.flatnonzero(done & valid_buf[t]):
                finished.append(float(self._episode_return[i]))
                self.episode_log.append((self.num_timesteps, float(self._episode_return[i])))
                self._episode_return[i] = 0.0
            self._last_obs = np.asarray(obs, dtype=np.float32)
            self._last_mask = _mask_from_info(info, e, width)
            self._last_done = done if self._next_step_autoreset else np.zeros(e, bool)

        rewards = self._scale_rewards(rew_buf, done_buf, valid_buf)
        post_values = self._values(self.critic_post, post_buf)
        values = last_values = last_post_values = None
        if self.advantage == "authors":
            last_post_values = self._bootstrap_post_values(obs_dim, ~done_buf[-1].astype(bool) & valid_buf[-1])
        if self.dual_critic:
            values = self._values(self.critic, obs_buf)
            last_values = self._values(self.critic, self._last_obs.reshape(e, obs_dim))
        adv, returns, post_returns = pdppo_advantages(
            rewards[..., 0], rewards[..., 1], values, post_values, last_values, last_post_values,
            done_buf, self.gamma, self.gae_lambda, self.advantage,
        )
        keep = valid_buf.reshape(-1)

        def flat(a: np.ndarray | None, dtype: torch.dtype = torch.float32) -> torch.Tensor | None:
            if a is None:
                return None
            return torch.as_tensor(a.reshape(n * e, *a.shape[2:])[keep], dtype=dtype, device=self.device)

        masks = self._masks_tensor(mask_buf.reshape(n * e, width)[keep], int(keep.sum()))
        rollout = _Rollout(
            obs=flat(obs_buf), post_obs=flat(post_buf), masks=masks, actions=flat(act_buf, torch.int64),
            logprobs=flat(logp_buf), advantages=flat(adv), returns=flat(returns), post_returns=flat(post_returns),
        )
        return rollout, finished

    def _bootstrap_post_values(self, obs_dim: int, inside_episode: np.ndarray) -> np.ndarray:
        """``V^x(s^x_{t+1})`` after the last step for the copies whose episode goes on, with
        ``a_{t+1}`` drawn from the current policy; zero (and unused by ``gae``) elsewhere."""
        values = np.zeros(self.n_envs)
        if not inside_episode.any():
            return values
        obs = self._last_obs.reshape(self.n_envs, obs_dim)[inside_episode]
        masks = self._masks_tensor(self._last_mask[inside_episode], len(obs))
        with torch.no_grad():
            actions = self._sample(self._logits(torch.as_tensor(obs, device=self.device), masks)).cpu().numpy()
        post_decision = getattr(self.env.unwrapped, "post_decision", None)
        if post_decision is None:
            raise ValueError(
                f"{type(self.env.unwrapped).__name__} has no post_decision(state, action) method; PDPPO needs it to "
                "bootstrap V^x when a rollout ends inside an episode (make n_steps a multiple of the episode length)"
            )
        post = np.asarray(post_decision(obs, actions), dtype=np.float32).reshape(len(obs), obs_dim)
        values[inside_episode] = self._values(self.critic_post, post)
        return values

    def _scale_rewards(self, rewards: np.ndarray, dones: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Divide both streams ``[whole, setup part]`` by the running std of the discounted whole return."""
        returns = np.zeros(rewards.shape[:2], np.float64)
        for t in range(len(rewards)):
            self._discounted = self._discounted * self.gamma + rewards[t, :, 0]
            returns[t] = self._discounted
            self._discounted[dones[t].astype(bool)] = 0.0
        self._return_stats.update(returns[valid])
        return rewards / np.sqrt(self._return_stats.var + 1e-8)

    # ------------------------------------------------------------------ update
    def _update(self, b: _Rollout) -> dict[str, float]:
        """Clipped-surrogate actor step and separate critic regressions (one screen)."""
        advantages = (b.advantages - b.advantages.mean()) / (b.advantages.std() + 1e-8)
        size = len(advantages)
        batch = size if self.batch_size is None else min(self.batch_size, size)
        # Masks are fixed per sample: fold them into one additive bias per rollout.
        bias = self._logit_bias(b.masks, size)
        stats: dict[str, list[torch.Tensor]] = {k: [] for k in ("actor_loss", "critic_loss", "critic_post_loss", "entropy", "approx_kl", "clip_fraction")}
        for _ in range(self.n_epochs):
            # A whole-rollout batch needs no shuffling: the mean over it does not depend on the order.
            order = self._np_rng.permutation(size) if batch < size else None
            for start in range(0, size, batch):
                idx = slice(None) if order is None else torch.as_tensor(order[start : start + batch], device=self.device)
                logits = self.actor(b.obs[idx]).view(-1, len(self.nvec), self._n_choices) + bias[idx]
                log_probs = torch.log_softmax(logits, -1)
                logp = log_probs.gather(-1, b.actions[idx].unsqueeze(-1)).sum((-2, -1))
                entropy = -(log_probs.exp() * log_probs).sum((-2, -1)).mean()
                log_ratio = logp - b.logprobs[idx]
                ratio = log_ratio.exp()
                adv = advantages[idx]
                surrogate = torch.min(ratio * adv, ratio.clamp(1 - self.clip_range, 1 + self.clip_range) * adv)
                actor_loss = -surrogate.mean() - self.ent_coef * entropy
                critic_post_loss = 0.5 * (self.critic_post(b.post_obs[idx]).squeeze(-1) - b.post_returns[idx]).pow(2).mean()
                loss = actor_loss + critic_post_loss
                if self.dual_critic:
                    critic_loss = 0.5 * (self.critic(b.obs[idx]).squeeze(-1) - b.returns[idx]).pow(2).mean()
                    loss = loss + critic_loss
                    stats["critic_loss"].append(critic_loss.detach())
                # The networks share no parameters: one backward gives each its own loss's gradient.
                for optimizer in self._optimizers:
                    optimizer.zero_grad()
                loss.backward()
                for net, optimizer in zip(self._networks, self._optimizers):
                    nn.utils.clip_grad_norm_(net.parameters(), self.max_grad_norm)
                    optimizer.step()
                with torch.no_grad():
                    stats["actor_loss"].append(actor_loss.detach())
                    stats["critic_post_loss"].append(critic_post_loss.detach())
                    stats["entropy"].append(entropy.detach())
                    stats["approx_kl"].append(((ratio - 1) - log_ratio).mean())
                    stats["clip_fraction"].append(((ratio - 1).abs() > self.clip_range).float().mean())
        return {k: torch.stack(v).mean().item() for k, v in stats.items() if v}

    def _logit_bias(self, masks: torch.Tensor | None, batch: int) -> torch.Tensor:
        """``_MASKED_LOGIT`` where a choice is masked (or padding), 0 elsewhere: (B, M, K)."""
        valid = self._valid_choices.to(self.device).expand(batch, -1, -1)
        if masks is not None:
            valid = valid & masks
        return torch.zeros(valid.shape, device=self.device).masked_fill(~valid, _MASKED_LOGIT)

    # ------------------------------------------------------------------ learn
    def learn(
        self,
        total_timesteps: int,
        callback: Callable[[dict[str, Any]], bool | None] | None = None,
        progress_bar: bool = False,
    ) -> "PDPPO":
        """Train for ``total_timesteps`` more env steps, rounded up to whole rollouts: the
        progress bar stops at ``total_timesteps``, ``num_timesteps`` counts every step done.

        ``callback(stats)`` is called after every update with the rollout statistics
        (``num_timesteps``, ``episode_cost_mean``, losses, entropy, ...); returning ``False``
        stops training.
        """
        if self.env is None:
            raise ValueError("this PDPPO has no env; load it with PDPPO.load(path, env=...) to train")
        if int(total_timesteps) < 1:
            raise ValueError(f"total_timesteps={total_timesteps!r} is out of range; allowed: an integer >= 1")
        if callback is not None and not callable(callback):
            raise TypeError(
                f"callback must be a callable taking a dict of rollout stats, got {type(callback).__name__} "
                "(SB3 BaseCallback objects are not supported)"
            )
        if self._vec is None:
            self._vec = self._make_vec()
        if self._last_obs is None:
            self._start_episodes()
        start = self.num_timesteps
        target = start + int(total_timesteps)
        progress = TrainingProgress(progress_bar, int(total_timesteps), "PDPPO")
        with progress:
            while self.num_timesteps < target:
                rollout, finished = self._collect()
                stats = self._update(rollout)
                stats["num_timesteps"] = self.num_timesteps
                if finished:
                    stats["episode_cost_mean"] = -float(np.mean(finished))
                    stats["episode_return_mean"] = float(np.mean(finished))
                self._log(stats)
                progress.update(self.num_timesteps - start)
                if callback is not None and callback(stats) is False:
                    break
        return self

    def _start_episodes(self) -> None:
        obs, info = self._vec.reset(seed=self.seed)
        e = self.n_envs
        self._last_obs = np.asarray(obs, dtype=np.float32)
        self._last_mask = _mask_from_info(info, e, int(self.nvec.sum()))
        self._last_done = np.zeros(e, bool)
        self._episode_return = np.zeros(e)
        self._discounted = np.zeros(e)
        self._next_step_autoreset = not isinstance(self._vec, _SingleEnv)
        self.env.action_space.seed(self.seed)

    def _log(self, stats: dict[str, float]) -> None:
        self._tensorboard.write({f"{'rollout' if key.startswith('episode') else 'train'}/{key}": value
                                 for key, value in stats.items() if key != "num_timesteps"}, self.num_timesteps)
        if self.verbose:
            cost = stats.get("episode_cost_mean", float("nan"))
            print(f"[PDPPO] steps={self.num_timesteps} episode_cost={cost:.1f} actor_loss={stats['actor_loss']:.4f} "
                  f"entropy={stats['entropy']:.3f}")

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> None:
        """One file (``torch.save`` of plain data): hyperparameters, weights, optimizer and scaling state."""
        nets = {"actor": self.actor, "critic_post": self.critic_post}
        optimizers = {"actor": self.actor_optimizer, "critic_post": self.critic_post_optimizer}
        if self.dual_critic:
            nets["critic"] = self.critic
            optimizers["critic"] = self.critic_optimizer
        torch.save(
            {
                "format": _FORMAT,
                "hyperparameters": dict(self.hyperparameters),
                "obs_shape": list(self.observation_space.shape),
                "nvec": self.nvec.tolist(),
                "num_timesteps": self.num_timesteps,
                "networks": {k: v.state_dict() for k, v in nets.items()},
                "optimizers": {k: v.state_dict() for k, v in optimizers.items()},
                "return_stats": [float(self._return_stats.mean), float(self._return_stats.var), float(self._return_stats.count)],
                "episode_log": [list(x) for x in self.episode_log],
            },
            path,
        )

    @classmethod
    def load(cls, path: str | os.PathLike, env: gym.Env | None = None) -> "PDPPO":
        """Rebuild a saved agent; ``env`` (optional, for further training) must match its spaces."""
        data = torch.load(path, map_location="cpu", weights_only=True)
        if data.get("format") == "gauntlet-pdppo/1":
            raise ValueError(f"{path} was written by an earlier PDPPO (format 'gauntlet-pdppo/1': per-stream reward "
                             f"scales and the stochastic-part return), a different algorithm; retrain it")
        if data.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a PDPPO file (format {data.get('format')!r}, expected {_FORMAT!r})")
        obs_space = gym.spaces.Box(-np.inf, np.inf, tuple(data["obs_shape"]), np.float32)
        act_space = gym.spaces.MultiDiscrete(data["nvec"])
        if env is not None:
            if tuple(env.observation_space.shape) != obs_space.shape or list(np.ravel(env.action_space.nvec)) != data["nvec"]:
                raise ValueError(
                    f"env spaces {env.observation_space}, {env.action_space} do not match the saved agent's "
                    f"observation shape {obs_space.shape} and action nvec {data['nvec']}"
                )
            obs_space, act_space = env.observation_space, env.action_space
        agent = cls.__new__(cls)
        agent._setup(obs_space, act_space, data["hyperparameters"])
        agent._attach_env(env)
        nets = {"actor": agent.actor, "critic_post": agent.critic_post, "critic": agent.critic}
        optimizers = {"actor": agent.actor_optimizer, "critic_post": agent.critic_post_optimizer, "critic": agent.critic_optimizer}
        for key, state in data["networks"].items():
            nets[key].load_state_dict(state)
        for key, state in data["optimizers"].items():
            optimizers[key].load_state_dict(state)
        mean, var, count = data["return_stats"]
        agent._return_stats.mean, agent._return_stats.var, agent._return_stats.count = np.float64(mean), np.float64(var), count
        agent.num_timesteps = int(data["num_timesteps"])
        agent.episode_log = [(int(t), float(r)) for t, r in data["episode_log"]]
        return agent


def _step_field(info: dict, keys: tuple[str, ...], valid: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``info[keys[0]][keys[1]]...`` as an array of ``shape``; zeros when every copy just reset
    (NEXT_STEP autoreset steps carry only reset infos, and their transitions are dropped)."""
    value: Any = info
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if value is None:
        if valid.any():
            raise KeyError(f"PDPPO needs info{''.join(f'[{k!r}]' for k in keys)} after every env step")
        return np.zeros(shape)
    return np.asarray(value, dtype=np.float64).reshape(shape)


def _mask_from_info(info: dict, n: int, width: int) -> np.ndarray:
    if "action_mask" not in info or info["action_mask"] is None:
        return np.ones((n, width), bool)
    return np.asarray(info["action_mask"], dtype=bool).reshape(n, width)


def _validate(hp: dict[str, Any], action_space: gym.Space, observation_space: gym.Space) -> None:
    if not isinstance(action_space, gym.spaces.MultiDiscrete):
        raise ValueError(f"PDPPO needs a MultiDiscrete action space, got {action_space}")
    if not isinstance(observation_space, gym.spaces.Box):
        raise ValueError(f"PDPPO needs a flat Box observation space, got {observation_space}")
    if hp["advantage"] not in ADVANTAGES:
        raise ValueError(f"advantage={hp['advantage']!r} is not known; allowed: {', '.join(map(repr, ADVANTAGES))}")
    if not hp["dual_critic"] and hp["advantage"] != "authors":
        raise ValueError(f"advantage={hp['advantage']!r} needs the critic V(s): with dual_critic=False only 'authors' "
                         "(A = R - V^x(s^x)) is allowed")
    checks = [
        ("gamma", 0.0 <= hp["gamma"] <= 1.0, "[0, 1]"),
        ("gae_lambda", 0.0 <= hp["gae_lambda"] <= 1.0, "[0, 1]"),
        ("clip_range", hp["clip_range"] > 0.0, "(0, inf)"),
        ("n_epochs", hp["n_epochs"] >= 1, ">= 1"),
        ("actor_lr", hp["actor_lr"] > 0.0, "(0, inf)"),
        ("critic_lr", hp["critic_lr"] > 0.0, "(0, inf)"),
        ("n_steps", hp["n_steps"] >= 1, ">= 1"),
        ("ent_coef", hp["ent_coef"] >= 0.0, "[0, inf)"),
        ("max_grad_norm", hp["max_grad_norm"] > 0.0, "(0, inf)"),
        ("n_envs", hp["n_envs"] >= 1, ">= 1"),
        ("hidden_sizes", len(hp["hidden_sizes"]) >= 1 and min(hp["hidden_sizes"]) >= 1, "a non-empty sequence of widths >= 1"),
    ]
    for name, ok, allowed in checks:
        if not ok:
            raise ValueError(f"{name}={hp[name]!r} is out of range; allowed: {allowed}")
    total = hp["n_steps"] * hp["n_envs"]
    if hp["batch_size"] is not None and not 1 <= hp["batch_size"] <= total:
        raise ValueError(f"batch_size={hp['batch_size']!r} is out of range; allowed: None or [1, n_steps * n_envs = {total}]")
