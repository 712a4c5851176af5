"""Under torchrun: the ranks stop together, hold the same weights at every checkpoint, and a rank
stopped because another failed says how to resume."""

from __future__ import annotations

from ...handover import PluginOutputError
from ..callback import Callback, TrainControl, TrainState
from ..errors import CallbackError, TrainingInterrupted
from .signals import StopOnSignal, Terminated


class RankAgreement(Callback):
    """Right after :class:`~.signals.StopOnSignal`: a stop asked on one rank (Ctrl-C) stops every
    rank after the same step; a rank stopped by another's failure says how to resume.

    Callbacks that run later must decide the same on every rank (from the step, or from
    ``state.metrics``, which are averaged over the ranks): their requests are not exchanged."""

    order = -95

    def on_step(self, state: TrainState, control: TrainControl) -> None:
        if state.world == 1:
            return
        from ..ranks import any_rank

        if any_rank(control.stop, state.device) and not control.stop:
            control.request_stop(StopOnSignal.interrupted(state))

    def on_failure(self, state: TrainState, control: TrainControl) -> None:
        error = state.error
        if isinstance(error, (CallbackError, PluginOutputError)) and error.__cause__ is not None:
            error = error.__cause__  # the peer's failure arrived while a callback or the GAN's step ran
        if state.world == 1 or not (isinstance(error, Terminated)
                                    or (isinstance(error, RuntimeError) and peer_failure(error))):
            return
        state.error = TrainingInterrupted(
            f"rank {state.rank} stopped at step {state.step}: another rank failed or was stopped "
            f"({str(error).splitlines()[0][:160]}); {state.where_checkpoint()}: run the same command with --resume, "
            "on any number of ranks")


class WeightAgreement(Callback):
    """At a checkpoint, after the finite check: BatchNorm statistics become the ranks' mean (they
    already agree with synchronised batch norms), then every rank must hold rank 0's weights."""

    order = -85

    def on_checkpoint(self, state: TrainState, control: TrainControl) -> None:
        if state.world == 1:
            return
        from ..ranks import average_buffers, check_same

        networks = dict(state.gan.networks())
        average_buffers(list(networks.values()), state.world)
        check_same(networks, state.step)


def peer_failure(exc: RuntimeError) -> bool:
    """A collective that failed because another rank is gone (gloo or NCCL)."""
    text = str(exc)
    return any(sign in text for sign in ("gloo", "NCCL", "Connection reset", "Connection closed", "Broken pipe"))
