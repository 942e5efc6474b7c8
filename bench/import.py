"""Importing a contacts CSV of 100,000 rows, as a ratio to a bare baseline measured in the
same run, and the peak memory of the import.

The file is what a Nordic supplier's CRM export looks like: accounts in Sweden, Norway,
Denmark, Finland and the UK with 1-10 contacts each, every column present, the account
columns filled on an account's first row only or on every row, semicolons or commas,
Nordic letters in names, a few internationalised addresses and odd spellings of roles.

- baseline: the csv module reads the file and one ``executemany`` writes its rows, as
  they are, into a bare table of the same database;
- import: ``import_contacts_csv`` on a migrated, empty database (fresh) and then the
  same file again (re-import: every row unchanged);
- upload: a file at the upload page's size limit posted to ``/accounts/import`` (the
  real view through Flask's test client), on the same database; ``upload_seconds``.

Each run is a fresh Python process; ``peak_rss_mb`` is the largest peak RSS of the
import processes (``resource.getrusage``). Baseline and import alternate, and the ratios
are the medians of the rounds' ratios. On SQLite, whose work is all in the measured
process, ``import_cpu_ratio`` is the same ratio of CPU times, which a busy machine
disturbs less.

    .venv/bin/python bench/import.py [--rows 100000] [--rounds 5] [--database-url URL]

Without ``--database-url`` the database is SQLite in a temporary directory. A PostgreSQL
database given is wiped (its public schema dropped). The last line printed is one JSON
object of the figures. Goals (issue 7): import_ratio >= 0.2, peak_rss_mb < 250.
"""

# ruff: noqa: N999 - named after what it measures; it is run, never imported

import argparse
import csv
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = [
    "account_id",
    "account_name",
    "contact_email",
    "contact_name",
    "role",
    "language",
    "account_manager_email",
    "segment",
    "annual_revenue",
    "status",
    "churned_at",
    "last_contacted_at",
]
COUNTRIES = {
    # prefix, company suffixes, top-level domain, contact language
    "SE": (["AB", "Aktiebolag", "& Co AB"], "se", "sv"),
    "NO": (["AS", "ASA"], "no", "nb"),
    "DK": (["A/S", "ApS"], "dk", "en"),
    "FI": (["Oy", "Oyj"], "fi", "en"),
    "UK": (["Ltd", "plc"], "co.uk", "en"),
}
FIRST_NAMES = (
    "Anna Åsa Björn Sören Jörgen Märta Øystein Kåre Ingrid Sigrid Astrid Lars Per Nils Kari "
    "Ola Erik Emma Maja Linnéa Agnes Oskar Henrik Mikael Päivi Jussi Aino Mette Søren Freja "
    "Jens Signe Tuva Håkon Ragnhild Tove Gunnar Elin Johan Sofia"
).split()
LAST_NAMES = (
    "Berg Öberg Ek Lindqvist Ström Nordmann Hansen Johansen Olsen Larsen Sørensen Nielsen "
    "Virtanen Korhonen Mäkinen Andersson Karlsson Nilsson Eriksson Persson Hägglund Dahl "
    "Bakke Haugen Lund Holm Sandberg Forsberg Wikström Åberg Smith Taylor"
).split()
COMPANY_WORDS = (
    "Nordljus Fjordkraft Bygg Vinterviken Kemi Skog Trä Stål Havs Fiske Logistik Frakt "
    "Energi Vind Sol Is Berg Dal Älv Sjö Fjäll Norrsken Polar Kyst Data Teknik Verkstad "
    "Emballage Förpackning Livsmedel Bageri Mejeri Transport Maskin Elektro Automation"
).split()
FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "ø": "o", "æ": "ae", "é": "e", "ü": "u"})
MANAGERS = [f"{name}@leverantor.se" for name in ("kam.lind", "kam.berg", "ola.kam", "sara.k")]
MANAGERS += [f"kam{number}@leverantor.se" for number in range(1, 21)]
ROLES = ["decision_maker"] * 3 + ["influencer"] * 4 + ["user"] * 8 + ["Decision Maker", "User"]
SEGMENTS = ["Enterprise", "Mid-market", "SMB", "SMB", "Offentlig sektor", "+46 region", ""]


def generate(path: Path, rows: int, seed: int = 7, *, max_bytes: int | None = None) -> int:
    """Write a realistic contacts CSV of ``rows`` rows (or as many as fit in ``max_bytes``);
    returns the number of rows written."""
    generator = random.Random(seed)
    written = 0
    number = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";" if seed % 2 else ",")
        writer.writerow(HEADER)
        while written < rows:
            number += 1
            country = generator.choice(list(COUNTRIES))
            suffixes, tld, language = COUNTRIES[country]
            words = generator.sample(COMPANY_WORDS, generator.choice([1, 2, 2]))
            company = f"{' '.join(words)} {generator.choice(suffixes)}"
            domain = "".join(words).lower().translate(FOLD)
            if generator.random() < 0.005:
                domain = "".join(words).lower()  # an internationalised domain: exämple.se
            domain = f"{domain}{number}.{tld}"
            churned = generator.random() < 0.08
            account = [
                f"{company}, {generator.choice(['Malmö', 'Bergen', 'Oslo', 'Umeå', 'Åbo'])}"
                if generator.random() < 0.05
                else company,
                generator.choice(MANAGERS),
                generator.choice(SEGMENTS),
                generator.choice(["1 250 000", "980000", "12 500 000,50", "2,400,000.00", ""]),
                "churned" if churned else generator.choice(["active", "active", ""]),
                f"2026-{generator.randint(1, 9):02d}-{generator.randint(1, 28):02d}"
                if churned
                else "",
                f"2026-{generator.randint(1, 10):02d}-{generator.randint(1, 28):02d}",
            ]
            every_row = generator.random() < 0.15
            seen = set()
            for index in range(generator.randint(1, 10)):
                first = generator.choice(FIRST_NAMES)
                last = generator.choice(LAST_NAMES)
                local = f"{first}.{last}".lower()
                if generator.random() > 0.02:  # most addresses fold the Nordic letters
                    local = local.translate(FOLD)
                if local in seen:
                    local = f"{local}{index}"
                seen.add(local)
                email = f"{local}@{domain}"
                if generator.random() < 0.05:
                    email = email.title()
                cells = account if index == 0 or every_row else [""] * len(account)
                row = [
                    f"{country}-{number:06d}",
                    cells[0],
                    email,
                    f"{first} {last}",
                    generator.choice(ROLES),
                    generator.choice(
                        [language, language, language, "en", "no" if tld == "no" else ""]
                    ),
                    *cells[1:],
                ]
                writer.writerow(row)
                written += 1
                if written >= rows:
                    return written
                if max_bytes and written % 50 == 0 and handle.tell() > max_bytes - 50 * 200:
                    return written
    return written


# What runs in the child processes.


def child_baseline(path: str, database_url: str) -> dict:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    metadata = sa.MetaData()
    sa.Table("bench_baseline", metadata, *[sa.Column(name, sa.Text) for name in HEADER])
    with engine.begin() as connection:
        metadata.drop_all(connection)
        metadata.create_all(connection)
    placeholder = "%s" if engine.dialect.name == "postgresql" else "?"
    insert = (
        f"INSERT INTO bench_baseline ({', '.join(HEADER)}) "
        f"VALUES ({', '.join([placeholder] * len(HEADER))})"
    )
    connection = engine.raw_connection()
    started, cpu_started = time.perf_counter(), time.process_time()
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter=sniff(path))
        next(reader)
        rows = list(reader)
    cursor = connection.cursor()
    cursor.executemany(insert, rows)
    connection.commit()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    connection.close()
    with engine.begin() as connection:
        metadata.drop_all(connection)
    engine.dispose()
    return {"seconds": elapsed, "cpu_seconds": cpu, "rows": len(rows)}


def sniff(path: str) -> str:
    with open(path, encoding="utf-8-sig") as handle:
        first = handle.readline()
    return ";" if first.count(";") > first.count(",") else ","


def bench_app(database_url: str):
    from config import ProductionConfig
    from surveys import create_app

    class Config(ProductionConfig):
        SECRET_KEY = "bench"
        SQLALCHEMY_DATABASE_URI = database_url
        STAFF_PAGES_OPEN = True
        WTF_CSRF_ENABLED = False

    return create_app(Config)


def child_import(path: str, database_url: str) -> dict:
    from surveys.accounts.services import import_contacts_csv
    from surveys.extensions import db

    logging.disable(logging.INFO)
    app = bench_app(database_url)
    with app.app_context():
        started, cpu_started = time.perf_counter(), time.process_time()
        with open(path, "rb") as source:
            result = import_contacts_csv(db.session, source)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        db.engine.dispose()
    return {
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "accounts": dict(result.accounts),
        "contacts": dict(result.contacts),
        "problems": result.problem_count,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child_upload(path: str, database_url: str) -> dict:
    logging.disable(logging.INFO)
    app = bench_app(database_url)
    client = app.test_client()
    with open(path, "rb") as source:
        started = time.perf_counter()
        response = client.post(
            "/accounts/import",
            data={"file": (source, "contacts.csv")},
            content_type="multipart/form-data",
        )
        elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True)
    with app.app_context():
        from surveys.extensions import db

        db.engine.dispose()
    return {
        "seconds": elapsed,
        "status": response.status_code,
        "imported": "Imported." in page,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


CHILDREN = {"baseline": child_baseline, "import": child_import, "upload": child_upload}


def run_child(kind: str, path: Path, database_url: str) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path), database_url],
        cwd=ROOT,
        env={**os.environ, "SURVEYS_ENV": "production", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# The parent: databases and rounds.


def fresh_database(database_url: str | None, workdir: Path, name: str) -> str:
    """A migrated, empty database."""
    from flask_migrate import upgrade

    from surveys.extensions import db

    if database_url is None:
        database_url = f"sqlite:///{workdir / (name + '.db')}"
    else:
        import sqlalchemy as sa

        engine = sa.create_engine(database_url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    logging.disable(logging.INFO)
    app = bench_app(database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    logging.disable(logging.NOTSET)
    return database_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", help="PostgreSQL URL (wiped); default SQLite")
    parser.add_argument("--no-upload", action="store_true", help="skip the upload page")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        kind, path, database_url = options.child
        print(json.dumps(CHILDREN[kind](path, database_url)))
        return

    from config import Config

    errors = 0
    with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
        workdir = Path(directory)
        path = workdir / "contacts.csv"
        rows = generate(path, options.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"{rows} rows, {size_mb:.1f} MB")
        rounds = []
        peak = 0.0
        for number in range(1, options.rounds + 1):
            database_url = fresh_database(options.database_url, workdir, f"round{number}")
            baseline = run_child("baseline", path, database_url)
            fresh = run_child("import", path, database_url)
            again = run_child("import", path, database_url)
            peak = max(peak, fresh["peak_rss_mb"], again["peak_rss_mb"])
            if fresh["problems"] or fresh["contacts"].get("created") != rows:
                errors += 1
                print(f"unexpected fresh import: {fresh}")
            if again["contacts"].get("unchanged") != fresh["contacts"].get("created") or any(
                again[kind].get(state)
                for kind in ("accounts", "contacts")
                for state in ("created", "updated")
            ):
                errors += 1
                print(f"unexpected re-import: {again}")
            measured = {
                "baseline": baseline["rows"] / baseline["seconds"],
                "import": rows / fresh["seconds"],
                "reimport": rows / again["seconds"],
                "cpu_ratio": baseline["cpu_seconds"] / fresh["cpu_seconds"],
            }
            rounds.append(measured)
            print(
                f"round {number}: baseline {baseline['seconds']:.2f} s "
                f"({baseline['cpu_seconds']:.2f} s CPU), "
                f"import {fresh['seconds']:.2f} s ({fresh['cpu_seconds']:.2f} s CPU, "
                f"{fresh['peak_rss_mb']:.0f} MB), "
                f"re-import {again['seconds']:.2f} s ({again['peak_rss_mb']:.0f} MB); "
                f"{fresh['accounts']} {fresh['contacts']}"
            )

        upload = None
        if not options.no_upload:
            limit = Config.IMPORT_MAX_BYTES
            at_limit = workdir / "at-limit.csv"
            upload_rows = generate(at_limit, 10**9, seed=8, max_bytes=limit)
            database_url = fresh_database(options.database_url, workdir, "upload")
            upload = run_child("upload", at_limit, database_url)
            print(
                f"upload page: {at_limit.stat().st_size / 1e6:.1f} MB ({upload_rows} rows, "
                f"limit {limit / 1e6:.1f} MB) in {upload['seconds']:.1f} s, "
                f"status {upload['status']}, {upload['peak_rss_mb']:.0f} MB"
            )
            if upload["status"] != 200 or not upload["imported"]:
                errors += 1
            upload["rows"] = upload_rows

    def median(key: str) -> float:
        return statistics.median(r[key] / r["baseline"] for r in rounds)

    figures = {
        "database": "postgresql" if options.database_url else "sqlite",
        "rows": rows,
        "file_mb": round(size_mb, 2),
        "rounds": options.rounds,
        "baseline_rows_per_s": round(statistics.median(r["baseline"] for r in rounds)),
        "import_rows_per_s": round(statistics.median(r["import"] for r in rounds)),
        "import_ratio": round(median("import"), 3),
        "reimport_ratio": round(median("reimport"), 3),
        "peak_rss_mb": round(peak, 1),
        "errors": errors,
    }
    if not options.database_url:
        # SQLite works in the measured process, so its CPU time is the whole work, and a
        # CPU-time ratio shows what the wall-time one would be on an idle machine.
        figures["import_cpu_ratio"] = round(statistics.median(r["cpu_ratio"] for r in rounds), 3)
    if upload:
        figures["upload_limit_mb"] = round(Config.IMPORT_MAX_BYTES / 1e6, 2)
        figures["upload_rows"] = upload["rows"]
        figures["upload_seconds"] = round(upload["seconds"], 2)
    print(
        f"import_ratio {figures['import_ratio']} (goal >= 0.2), reimport_ratio "
        f"{figures['reimport_ratio']}, peak_rss_mb {figures['peak_rss_mb']} (goal < 250)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
