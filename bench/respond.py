"""Answer page speed under gunicorn on the embedded default (SQLite, WAL), as a ratio to a
bare Flask "hello" app served by the same gunicorn settings in the same run.

Goals (issue 3): answer page GET >= 0.30 of the bare app's requests per second, answer
POST >= 0.10, no errors and no "database is locked". The last line printed is one JSON
object of the figures.
"""

import argparse
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COMMENTS = [
    "Bra produkt men ingen hör av sig.",
    "The price went up and nobody called us.",
    "Prisen er grei, men oppfølgingen er dårlig.",
    "Great support, very responsive account manager.",
    "",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def seed(database_url: str, invitations: int) -> list[str]:
    """A migrated database with one open NPS campaign and ``invitations`` contacts with
    known tokens; returns the tokens."""
    from flask_migrate import upgrade

    from config import ProductionConfig
    from surveys import create_app
    from surveys.accounts.models import Account, Contact
    from surveys.campaigns.models import Campaign, Invitation
    from surveys.campaigns.tokens import new_token, token_hash
    from surveys.extensions import db

    class Config(ProductionConfig):
        SECRET_KEY = "bench-" * 8
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    tokens = []
    with app.app_context():
        upgrade()
        now = datetime.now(UTC)
        campaign = Campaign(
            kind="nps", name="Bench", created_at=now, closes_at=now + timedelta(days=30)
        )
        db.session.add(campaign)
        languages = ["sv", "nb", "en"]
        for number in range(invitations // 4):
            account = Account(external_id=f"B{number}", name=f"Bench account {number}")
            for index in range(4):
                account.contacts.append(
                    Contact(
                        email=f"c{index}@b{number}.example",
                        name=f"Contact {index}",
                        role="user",
                        language=languages[(number + index) % 3],
                    )
                )
            db.session.add(account)
        db.session.flush()
        for contact in db.session.scalars(db.select(Contact)):
            token = new_token()
            tokens.append(token)
            db.session.add(
                Invitation(
                    campaign=campaign,
                    contact_id=contact.id,
                    token_hash=token_hash(token),
                    sent_at=now,
                )
            )
        db.session.commit()
        db.engine.dispose()
    return tokens


def serve(app_spec: str, port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            "sync",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"gunicorn did not start; see {log}")


def request(port: int, method: str, path: str, body: bytes = b"") -> int:
    """One HTTP/1.0 request on a fresh connection (gunicorn's sync workers close it)."""
    head = f"{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n"
    if method == "POST":
        head += (
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
        )
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode() + b"\r\n" + body)
        chunks = []
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    response = b"".join(chunks)
    return int(response[9:12]) if response.startswith(b"HTTP/") else 0


def client(port: int, scenario: str, tokens: list[str], seconds: float, seed_: int, queue) -> None:
    rng = random.Random(seed_)
    done = errors = 0
    statuses: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if scenario == "bare":
            status, expected = request(port, "GET", "/"), 200
        elif scenario == "get":
            token = rng.choice(tokens)
            status = request(port, "GET", f"/r/{token}?score={rng.randint(0, 10)}")
            expected = 200
        else:
            token = rng.choice(tokens)
            body = urlencode(
                {
                    "score": rng.randint(0, 10),
                    "reason": rng.choice(["price", "attention", "product", "other"]),
                    "comment": rng.choice(COMMENTS),
                }
            ).encode()
            status, expected = request(port, "POST", f"/r/{token}", body), 303
        done += 1
        statuses[status] = statuses.get(status, 0) + 1
        if status != expected:
            errors += 1
    queue.put((done, errors, statuses))


def load(
    port: int, scenario: str, tokens: list[str], seconds: float, clients: int
) -> tuple[float, int, dict]:
    queue = multiprocessing.Queue()
    # a short warm-up so every worker has imported and connected
    warm = [
        multiprocessing.Process(target=client, args=(port, scenario, tokens, 1.0, 1000 + i, queue))
        for i in range(clients)
    ]
    for process in warm:
        process.start()
    for process in warm:
        process.join()
    for _ in warm:
        queue.get()
    processes = [
        multiprocessing.Process(target=client, args=(port, scenario, tokens, seconds, i, queue))
        for i in range(clients)
    ]
    started = time.monotonic()
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.monotonic() - started
    statuses: dict[int, int] = {}
    for _, _, counts in results:
        for status, count in counts.items():
            statuses[status] = statuses.get(status, 0) + count
    done = sum(result[0] for result in results)
    return done / elapsed, sum(result[1] for result in results), statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="bare/GET/POST rounds")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers, both apps")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument("--invitations", type=int, default=2000)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-respond-") as directory:
        workdir = Path(directory)
        database_url = f"sqlite:///{workdir / 'surveys.db'}"
        tokens = seed(database_url, options.invitations)
        env = {
            **os.environ,
            "SURVEYS_ENV": "production",
            "SECRET_KEY": "bench-" * 8,
            "DATABASE_URL": database_url,
            "PYTHONPATH": str(ROOT),
        }
        logs = {"bare": workdir / "bare.log", "app": workdir / "app.log"}
        ports = {"bare": free_port(), "app": free_port()}
        servers = [
            serve("bench.hello:app", ports["bare"], options.workers, env, logs["bare"]),
            serve("wsgi:app", ports["app"], options.workers, env, logs["app"]),
        ]
        # Rounds alternate the baseline and the app, so a passing load on the machine
        # weighs on both; the ratios are the medians of the rounds' ratios.
        rounds = []
        errors = 0
        try:
            for number in range(1, options.rounds + 1):
                measured = {}
                for name, port, scenario in [
                    ("bare", ports["bare"], "bare"),
                    ("get", ports["app"], "get"),
                    ("post", ports["app"], "post"),
                ]:
                    rps, failed, statuses = load(
                        port, scenario, tokens, options.seconds, options.clients
                    )
                    measured[name] = rps
                    errors += failed
                    print(f"round {number} {name:4} {rps:8.0f} req/s  statuses {statuses}")
                rounds.append(measured)
        finally:
            for server in servers:
                server.terminate()
                server.wait()
        server_log = logs["app"].read_text()
        locked = server_log.count("database is locked")
        if server_log.strip():
            print("server log (last lines):\n" + "\n".join(server_log.splitlines()[-10:]))

        def median(values: list[float]) -> float:
            return statistics.median(values)

        figures = {
            "workers": options.workers,
            "clients": options.clients,
            "rounds": options.rounds,
            "seconds": options.seconds,
            "invitations": len(tokens),
            "bare_rps": round(median([r["bare"] for r in rounds]), 1),
            "page_get_rps": round(median([r["get"] for r in rounds]), 1),
            "answer_post_rps": round(median([r["post"] for r in rounds]), 1),
            "page_get_ratio": round(median([r["get"] / r["bare"] for r in rounds]), 3),
            "answer_post_ratio": round(median([r["post"] / r["bare"] for r in rounds]), 3),
            "errors": errors,
            "database_locked": locked,
        }
        print(
            f"page_get_ratio {figures['page_get_ratio']} (goal >= 0.30), "
            f"answer_post_ratio {figures['answer_post_ratio']} (goal >= 0.10)"
        )
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
