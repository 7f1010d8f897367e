from django.core.management.base import BaseCommand, CommandError

from classifier.models import LabelSet
from moderation.learning.readiness import retrain_blocker
from moderation.learning.retrain import RetrainError, retrain_run_create, retrain_run_execute
from moderation.models import RetrainRun


class Command(BaseCommand):
    help = "Train a new model version from human labels; promote it only if it is not worse."

    def add_arguments(self, parser):
        parser.add_argument("--label-set", default="sentiment")
        parser.add_argument("--force", action="store_true", help="promote even if worse")
        parser.add_argument("--no-promote", action="store_true", help="train and evaluate only")
        parser.add_argument("--epochs", type=int, default=None)

    def handle(self, *args, **opts):
        label_set = LabelSet.objects.filter(name=opts["label_set"]).first()
        if label_set is None:
            raise CommandError(f"unknown label set {opts['label_set']!r}")
        # Refused before a run is recorded: too few labels is a state, not a failed run.
        blocker = retrain_blocker(label_set=label_set)
        if blocker is not None:
            raise CommandError(blocker)
        try:
            run = retrain_run_create(
                label_set=label_set,
                force=opts["force"],
                promote=not opts["no_promote"],
                epochs=opts["epochs"],
                trigger="command",
            )
        except RetrainError as exc:
            raise CommandError(str(exc)) from None
        run = retrain_run_execute(
            run=run, echo=self.stdout.write, progress_bars=opts["verbosity"] > 0
        )
        if run.status == RetrainRun.Status.FAILED:
            raise CommandError(f"retrain failed: {run.error}")
        self._print_comparison(run)

    def _print_comparison(self, run):
        new, old = run.gate_metrics.get("new") or {}, run.gate_metrics.get("active") or {}
        old_name = run.compared_with.version if run.compared_with else "(none)"
        heading = f"gate split (n={new.get('n')})"
        self.stdout.write(f"\n{heading:24} {run.new_version.version:>32} {old_name:>32}")
        for key in ("macro_f1", "auroc", "accuracy", "log_loss", "ece"):
            self.stdout.write(f"{key:24} {_fmt(new.get(key)):>32} {_fmt(old.get(key)):>32}")
        gate = run.gate_metrics.get("gate") or {}
        for key in ("f1", "auroc"):
            if gate.get(f"{key}_diff") is not None:
                lo, hi = gate[f"{key}_ci"] or (None, None)
                interval = "" if lo is None else f" [{lo:+.4f}, {hi:+.4f}] (95%)"
                name = "macro_f1" if key == "f1" else key
                self.stdout.write(
                    f"{name + ' difference':24} {gate[key + '_diff']:+.4f}{interval}"
                    f" vs {gate.get('against')}"
                )
        self.stdout.write(f"\ndecision: {run.decision}")


def _fmt(value) -> str:
    return "—" if value is None else f"{value:.4f}"
