"""Command line: python -m tlcourse {data list|data prepare [NAME]|data vocab|doctor|course|report|publish|student|grade|book|export}.

Thin: each command parses its arguments and calls one function of tlcourse.course."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tlcourse")
    commands = parser.add_subparsers(dest="command", required=True)
    data_parser = commands.add_parser("data", help="list or prepare the datasets")
    data_commands = data_parser.add_subparsers(dest="action", required=True)
    data_commands.add_parser("list", help="each dataset, its source and whether it is cached")
    prepare = data_commands.add_parser(
        "prepare",
        help="build and verify the cached splits of every dataset whose "
        "source is available; list the missing ones with their fix",
    )
    prepare.add_argument("names", nargs="*")
    prepare.add_argument("--strict", action="store_true", help="exit 1 when a dataset cannot be prepared")
    manifest = data_commands.add_parser("manifest", help="maintainers: recompute tlcourse/manifest.json")
    manifest.add_argument("names", nargs="*")
    data_commands.add_parser("vocab", help="maintainers: train and ship notebook 03's vocabularies (tlcourse/vocab/)")
    commands.add_parser("doctor", help="check the installation: one [OK]/[FAIL] line per requirement")
    course = commands.add_parser(
        "course",
        help="run every notebook and write build/report.md (default profile: "
        "in place; smoke and full: into build/PROFILE/, with their own report)",
    )
    course.add_argument("names", nargs="*", help="run only notebooks whose file name contains one of these")
    course.add_argument("--profile", default="default", choices=["smoke", "default", "full"])
    course.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    commands.add_parser("report", help="print the course report table")
    commands.add_parser(
        "publish",
        help="maintainers: after a finished default-profile `make course`, write tlcourse/published.json (values, "
        "ranges, run times, versions) and the run-time tables of README.md and docs/teaching.md",
    )
    commands.add_parser("book", help="build the course website into build/book (needs: pip install -e '.[book]')")
    student = commands.add_parser("student", help="write student copies of the notebooks (no outputs, no solutions)")
    student.add_argument(
        "--out",
        default=None,
        help="folder (default: student/ beside notebooks/, so the "
        "notebooks' relative links still work; in a read-only checkout, the build folder's student/)",
    )
    grade = commands.add_parser("grade", help="run notebooks and report each exercise: passed, failed, not attempted")
    grade.add_argument("paths", nargs="+")
    grade.add_argument("--profile", default="smoke", choices=["smoke", "default", "full"])
    grade.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    export = commands.add_parser("export", help="write the notebooks' cells tagged `export` to tlcourse/lessons/")
    export.add_argument("--check", action="store_true", help="only compare: exit 1 when a module is out of date")
    args = parser.parse_args(argv)

    if args.command == "export":
        from tlcourse.course import export

        return export.main(check=args.check)

    if args.command == "data":
        from tlcourse.course import data

        if args.action == "list":
            for name, source, cached, about, where in data.summary_rows():
                print(f"{name:14} source {source:7} cached {cached:3}  {about}\n{'':14} {where}")
        elif args.action == "prepare":
            from tlcourse.course.env import hub_reachable, is_offline, set_offline

            if not is_offline() and not hub_reachable():
                set_offline()  # no network: a missing dataset is reported at once, not after 30-50 s of retries
            try:
                for name in args.names:
                    data.check_name(name)
                missing = data.prepare_all(args.names or None, strict=args.strict)
            except (data.DataIntegrityError, ValueError) as error:
                print(error, file=sys.stderr)
                return 1
            return 1 if missing and args.strict else 0
        elif args.action == "vocab":
            from tlcourse.tools import mlm

            for corpus_size, vocab_size in mlm.VOCABULARIES:
                sizes = {"corpus_size": corpus_size, "vocab_size": vocab_size, "block_size": 128}
                print(f"wrote {mlm.write_vocabulary(sizes)}")
        else:
            data.write_manifest(args.names or None)
            print(f"wrote {data.manifest_path()}")
        return 0
    if args.command == "doctor":
        from tlcourse.course import doctor

        return doctor.main()
    if args.command == "course":
        from tlcourse.course import runner

        try:
            return 0 if runner.run(args.profile, args.names, args.timeout) else 1
        except KeyboardInterrupt:  # between notebooks; the report is written all the same
            print("\ninterrupted", file=sys.stderr)
            return 130
    if args.command == "publish":
        from tlcourse.course import reproduce

        try:
            published = reproduce.publish()
        except ValueError as error:
            print(error, file=sys.stderr)
            return 1
        reproduce.update_run_time_blocks()
        count = sum(len(n["metrics"]) for n in published["notebooks"].values())
        print(f"wrote {reproduce.PUBLISHED} ({count} headline metrics) and the run-time tables")
        return 0
    if args.command == "book":
        from tlcourse.course import book

        return book.main()
    if args.command in ("student", "grade"):
        import os

        from tlcourse.course import student

        if args.command == "student":
            return student.main_student(args.out or student.default_folder())
        os.environ["TLCOURSE_PROFILE"] = args.profile  # the kernels inherit it
        return student.main_grade(args.paths, args.timeout)
    from tlcourse.course import report

    print(report.table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
