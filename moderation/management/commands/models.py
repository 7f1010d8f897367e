from django.core.management.base import BaseCommand

from classifier.models import ModelVersion


class Command(BaseCommand):
    help = "List model versions with their metrics; * marks the active one."

    def add_arguments(self, parser):
        parser.add_argument("--label-set", default=None)

    def handle(self, *args, **opts):
        versions = ModelVersion.objects.select_related("label_set", "parent").order_by(
            "label_set__name", "created_at"
        )
        if opts["label_set"]:
            versions = versions.filter(label_set__name=opts["label_set"])
        self.stdout.write(
            f"  {'label set':12} {'version':36} {'macro-F1':>8} {'AUROC':>7} {'created':20} parent"
        )
        for v in versions:
            m = v.metrics or {}
            self.stdout.write(
                f"{'*' if v.is_active else ' '} {v.label_set.name:12} {v.version:36} "
                f"{_fmt(m.get('macro_f1')):>8} {_fmt(m.get('auroc')):>7} "
                f"{v.created_at:%Y-%m-%d %H:%M:%S}  {v.parent.version if v.parent else '-'}"
            )


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}"
