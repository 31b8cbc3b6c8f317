"""The papers' reference learning agents and Stable-Baselines3 adapters.

The agent interface (what the benchmark runner calls):

- ``factory(env, seed=..., **hyperparameters) -> agent`` as named in ``gauntlet.registry``.
- ``agent.predict(observation, state=None, episode_start=None, deterministic=True)``
  returns ``(action, state)`` exactly like Stable-Baselines3. When the env has
  ``action_masks()`` and ``predict`` accepts an ``action_masks`` keyword, the runner passes
  the current mask (as sb3-contrib's MaskablePPO expects).
- Learning agents: ``learn(total_timesteps, callback=None, progress_bar=False)``,
  ``save(path)`` and classmethod ``load(path, env=None)``; ``tensorboard_log=`` in the factory
  (scalars in SB3's ``<name>_<k>`` run directories, :mod:`gauntlet.agents.tensorboard`).
  ``num_timesteps`` is the number of env steps trained so far, SB3's attribute: agents that
  train in whole rollouts or vector steps may pass ``total_timesteps``, their progress bar
  stops at it (:mod:`gauntlet.agents.progress`). Saved files load with
  ``torch.load(weights_only=True)`` (or are SB3 zips / JSON).
- Optional hooks used during evaluation: ``on_reset(env, observation, info)`` after every
  reset (oracles may read the unwrapped env here), and
  ``on_step(observation, reward, terminated, truncated, info)`` after every step (online
  learners such as bandits update here), and ``episode_report() -> dict[str, float]`` after
  every episode: figures only the agent knows (an oracle's proven bound) join the episode's
  metrics when the task lists them.
"""
