from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from moderation.learning.imports import DatasetImportError, dataset_import, parse_label_map


class Command(BaseCommand):
    help = "Import a labelled CSV of memes: images become memes, labels become human labels."

    def add_arguments(self, parser):
        parser.add_argument("--csv", required=True)
        parser.add_argument("--images", required=True, help="folder holding the images")
        parser.add_argument("--label-set", required=True)
        parser.add_argument("--label-column", required=True)
        parser.add_argument("--text-column", default=None)
        parser.add_argument("--image-column", default="image_name")
        parser.add_argument(
            "--map", default=None, help="raw=class,... (e.g. collapse 5 values to 2)"
        )
        parser.add_argument("--create-label-set", action="store_true")

    def handle(self, *args, **opts):
        bar = tqdm(desc="importing", unit="row", disable=opts["verbosity"] == 0)

        def on_row(done, total):
            bar.total = total
            bar.update(done - bar.n)

        try:
            summary = dataset_import(
                csv_path=opts["csv"],
                images_dir=opts["images"],
                label_set_name=opts["label_set"],
                label_column=opts["label_column"],
                text_column=opts["text_column"],
                image_column=opts["image_column"],
                label_map=parse_label_map(opts["map"]),
                create_label_set=opts["create_label_set"],
                on_row=on_row,
            )
        except DatasetImportError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
        for problem in summary.problems[:20]:
            self.stderr.write(problem)
        if len(summary.problems) > 20:
            self.stderr.write(f"... and {len(summary.problems) - 20} more problems")
        self.stdout.write(
            "rows {rows}, imported {imported}, duplicate {duplicate}, missing image "
            "{missing_image}, unreadable {unreadable}, unmapped {unmapped}".format(
                **summary.as_dict()
            )
        )
