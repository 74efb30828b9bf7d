"""Every CLI command through runner.invoke, including bad input: clear message, non-zero exit."""

from server.models import AuditEvent, Device, Person, Resource, Team, User, UserSession, Visit

GOOD = "a-long-enough-password"


def test_users_create_with_prompt_and_confirmation(runner):
    result = runner.invoke(args=["users", "create", "Ann@Example.test", "--name", "Ann", "--role", "coordinator",
                                 "--team", "North"], input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    user = User.get(User.email == "ann@example.test")
    assert user.role == "coordinator" and user.team.name == "North"
    assert user.password_hash.startswith("$argon2id$")
    assert AuditEvent.select().where(AuditEvent.action == "user.create").count() == 1


def test_users_create_password_from_stdin(runner):
    result = runner.invoke(args=["users", "create", "bo@example.test", "--name", "Bo", "--role", "peer_worker",
                                 "--team", "North", "--password-stdin"], input=GOOD + "\n")
    assert result.exit_code == 0, result.output
    assert User.get(User.email == "bo@example.test").team.name == "North"


def test_users_create_mismatched_confirmation_is_asked_again(runner):
    result = runner.invoke(args=["users", "create", "cy@example.test", "--name", "Cy", "--role", "admin"],
                           input=f"{GOOD}\nsomething-else-entirely\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output.lower()


def test_users_create_duplicate_email(runner, worker):
    result = runner.invoke(args=["users", "create", worker.email.upper(), "--name", "X", "--role", "peer_worker",
                                 "--team", "T", "--password-stdin"], input=GOOD + "\n")
    assert result.exit_code != 0
    assert "already exists" in result.output


def test_users_create_unknown_role(runner):
    result = runner.invoke(args=["users", "create", "d@example.test", "--name", "D", "--role", "boss",
                                 "--password-stdin"], input=GOOD + "\n")
    assert result.exit_code == 2
    assert "boss" in result.output and "peer_worker" in result.output
    assert not User.select().where(User.email == "d@example.test").exists()


def test_users_create_weak_password(runner):
    for weak in ("short", "password123", "aaaaaaaaaaaa", "edwardjones-secret"):
        result = runner.invoke(args=["users", "create", "edwardjones@example.test", "--name", "E",
                                     "--role", "admin", "--password-stdin"], input=weak + "\n")
        assert result.exit_code == 1, weak
        assert "Password not accepted" in result.output, weak
    assert not User.select().where(User.email == "edwardjones@example.test").exists()


def test_users_create_bad_email_and_missing_team(runner):
    bad = runner.invoke(args=["users", "create", "not-an-email", "--name", "F", "--role", "admin",
                              "--password-stdin"], input=GOOD + "\n")
    assert bad.exit_code == 1 and "Not a valid email" in bad.output
    no_team = runner.invoke(args=["users", "create", "g@example.test", "--name", "G", "--role", "peer_worker",
                                  "--password-stdin"], input=GOOD + "\n")
    assert no_team.exit_code == 1 and "--team is required" in no_team.output


def test_users_deactivate_ends_sessions(app, runner, worker):
    from helpers import api_login

    client = app.test_client()
    api_login(client, worker)
    Device.create(user=worker, name="Phone")
    result = runner.invoke(args=["users", "deactivate", worker.email])
    assert result.exit_code == 0, result.output
    assert "ended 1 session" in result.output and "revoked 1 device" in result.output
    assert Device.get(Device.user == worker).revoked_at is not None  # the phone wipes at its next contact
    assert not User.get_by_id(worker.id).active
    assert UserSession.select().where(UserSession.user == worker, UserSession.revoked_at.is_null()).count() == 0
    assert client.get("/api/v1/auth/me").status_code == 401


def test_users_deactivate_unknown(runner):
    result = runner.invoke(args=["users", "deactivate", "nobody@example.test"])
    assert result.exit_code == 1 and "No user" in result.output


def test_users_list(runner, worker, coordinator):
    result = runner.invoke(args=["users", "list"])
    assert result.exit_code == 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 2
    assert any(worker.email in line and "peer_worker" in line and "active" in line for line in lines)


def test_db_status_and_upgrade(runner):
    status = runner.invoke(args=["db", "status"])
    assert status.exit_code == 0 and "applied\t0001_initial" in status.output and "Up to date." in status.output
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0 and "Already up to date." in upgrade.output


def test_demo_is_idempotent_and_prints_sign_ins(runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "coordinator@demo.alongside.test" in first.output and "demo-worker-jo-1" in first.output
    counts = (User.select().count(), Person.select().count(), Visit.select().count(), Resource.select().count())
    assert counts[0] == 4 and counts[1] == 12 and counts[3] == 30 and counts[2] > 100
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "already present" in second.output
    assert (User.select().count(), Person.select().count(), Visit.select().count(),
            Resource.select().count()) == counts
    assert Team.select().count() == 1


def test_demo_if_empty_leaves_real_data_alone(runner, worker):
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0 and "not seeded" in result.output
    assert Person.select().count() == 0


def test_demo_refused_in_production(make_app, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    app = make_app(ENV="production", VAPID_PRIVATE_KEY=pem, TOTP_REQUIRED=True)
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1 and "refused in production" in result.output


def test_demo_people_have_an_upcoming_visit(runner):
    from server.db import utcnow

    runner.invoke(args=["demo"])
    upcoming = (Visit.select(Visit.person).where(Visit.next_visit_at > utcnow()).distinct().count())
    assert upcoming == Person.select().count()
