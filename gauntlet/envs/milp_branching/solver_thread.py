"""SCIP in a worker thread with inverted control: a branching rule hands each node to the caller.

Protocol (two queues, every blocking ``get`` has a timeout and re-checks a stop flag):

- solver -> caller: ``("node", NodeGraph, stats)`` when a branching decision is needed,
  ``("result", value)`` / ``("call_error", exc)`` for :meth:`SolverThread.call`,
  ``("done", stats)`` when the solve has ended, ``("error", exc)`` when the callback raised.
- caller -> solver: ``("branch", column)``, ``("call", fn)``, ``("scip", None)`` (let SCIP's own
  rules decide from now on) or ``("stop", None)``.

All SCIP calls during the solve happen on the solver thread; the caller only reads the model
after :meth:`join`. Exceptions raised in the callback would otherwise be swallowed by
PySCIPOpt ("Exception ignored" and a generic SCIP error), so they are caught, the solve is
interrupted, and the exception is re-raised on the caller's side.
"""

from __future__ import annotations

import queue
import threading
from typing import Any, Callable

_POLL = 0.05  # seconds between stop-flag checks while waiting on a queue


class SolverError(RuntimeError):
    """The solver thread ended without a result (it died or was stopped)."""


def solve_stats(model: Any) -> dict[str, float]:
    """Counters the rewards and ``info`` are built from (solver thread or after the solve)."""
    return {
        "nodes": float(model.getNNodes()),
        "lp_iterations": float(model.getNLPIterations()),
        "solving_time": float(model.getSolvingTime()),
        "primal_bound": float(model.getPrimalbound()),
        "dual_bound": float(model.getDualbound()),
        "gap": float(model.getGap()),
    }


def _branchrule_class() -> type:
    from pyscipopt import SCIP_RESULT, Branchrule

    class QueueBranchrule(Branchrule):
        """Hands every LP branching node to the caller and branches on the returned column."""

        def __init__(self, owner: "SolverThread") -> None:
            self.owner = owner

        def branchexeclp(self, allowaddcons: bool) -> dict:
            owner = self.owner
            if owner.delegated or owner.stop_event.is_set():
                return {"result": SCIP_RESULT.DIDNOTRUN}
            model = self.model
            try:
                graph = owner.extractor(model)
                stats = solve_stats(model)
                node = model.getCurrentNode()
                parent = node.getParent()
                stats["depth"] = float(node.getDepth())
                stats["node_id"] = float(node.getNumber())
                stats["parent_id"] = float(parent.getNumber()) if parent is not None else 0.0
                owner.to_caller.put(("node", graph, stats))
                while True:
                    try:
                        kind, payload = owner.to_solver.get(timeout=_POLL)
                    except queue.Empty:
                        if owner.stop_event.is_set():
                            kind, payload = "stop", None
                        else:
                            continue
                    if kind == "call":
                        try:
                            owner.to_caller.put(("result", payload(model, graph)))
                        except Exception as exc:  # noqa: BLE001 - forwarded to the caller
                            owner.to_caller.put(("call_error", exc))
                        continue
                    if kind == "branch":
                        model.branchVar(graph.candidate_vars[payload])
                        return {"result": SCIP_RESULT.BRANCHED}
                    if kind == "scip":
                        owner.delegated = True
                        return {"result": SCIP_RESULT.DIDNOTRUN}
                    # stop: branch on the first candidate (cheap, always valid) and end the solve
                    model.interruptSolve()
                    model.branchVar(graph.candidate_vars[0])
                    return {"result": SCIP_RESULT.BRANCHED}
            except BaseException as exc:  # noqa: BLE001 - forwarded to the caller
                owner.callback_error = exc
                model.interruptSolve()
                return {"result": SCIP_RESULT.DIDNOTRUN}

    return QueueBranchrule


class SolverThread:
    """Runs ``model.optimizeNogil()`` on a daemon thread with a queue-driven branching rule.

    ``extractor(model) -> NodeGraph`` builds the observation at each node.
    """

    def __init__(self, model: Any, extractor: Callable[[Any], Any], priority: int = 666_666) -> None:
        self.model = model
        self.extractor = extractor
        self.to_caller: queue.Queue = queue.Queue()
        self.to_solver: queue.Queue = queue.Queue()
        self.stop_event = threading.Event()
        self.delegated = False
        self.callback_error: BaseException | None = None
        self.solve_error: BaseException | None = None
        self.rule = _branchrule_class()(self)
        model.includeBranchrule(self.rule, "gauntlet_env", "branching decisions from the Gymnasium env",
                                priority=priority, maxdepth=-1, maxbounddist=1.0)
        self.thread = threading.Thread(target=self._run, name="gauntlet-scip", daemon=True)

    def _run(self) -> None:
        try:
            self.model.optimizeNogil()
        except BaseException as exc:  # noqa: BLE001 - forwarded to the caller
            self.solve_error = exc
        finally:
            error = self.callback_error or self.solve_error
            if error is not None:
                self.to_caller.put(("error", error))
            else:
                self.to_caller.put(("done", solve_stats(self.model)))

    def start(self) -> tuple:
        self.thread.start()
        return self.next_event()

    def next_event(self) -> tuple:
        """Block until the solver reports a node, the end of the solve or an error."""
        while True:
            try:
                return self.to_caller.get(timeout=_POLL)
            except queue.Empty:
                if not self.thread.is_alive() and self.to_caller.empty():
                    raise SolverError("the SCIP thread ended without reporting a result") from None

    def branch(self, column: int) -> tuple:
        self.to_solver.put(("branch", column))
        return self.next_event()

    def delegate(self) -> tuple:
        self.to_solver.put(("scip", None))
        return self.next_event()

    def call(self, fn: Callable[[Any, Any], Any]) -> Any:
        """Run ``fn(model, node_graph)`` on the solver thread at the current node and return its value."""
        self.to_solver.put(("call", fn))
        kind, *payload = self.next_event()
        if kind == "call_error":
            raise payload[0]
        if kind != "result":
            raise SolverError(f"unexpected solver message {kind!r} while waiting for a call result")
        return payload[0]

    def release(self) -> None:
        """Stop, then free SCIP's problem data: PySCIPOpt plugins hold the model strongly, so the
        model would otherwise outlive the env's reference to it."""
        self.stop()
        self.rule.owner = None
        try:
            self.model.freeProb()
        except Exception:  # noqa: BLE001 - nothing left to free
            pass

    def stop(self) -> None:
        """Interrupt the solve (if running) and join the thread; idempotent."""
        self.stop_event.set()
        if self.thread.is_alive():
            self.to_solver.put(("stop", None))
            try:
                self.model.interruptSolve()
            except Exception:  # noqa: BLE001 - the solve may just have left the stages where this is allowed
                pass
        while self.thread.is_alive():
            self.thread.join(timeout=_POLL)
            # drain so a solver blocked on a full queue (never with unbounded queues) cannot wait
            while not self.to_caller.empty():
                self.to_caller.get_nowait()
