"""The init step's admin login for the FAB auth manager, from environment variables.

``python -m scones.localrun.fab_admin`` creates the user ``_AIRFLOW_WWW_USER_USERNAME``
(default ``admin``) with the Admin role and the password ``_AIRFLOW_WWW_USER_PASSWORD``, or sets
that password when the user exists, so the variables stay the truth. The names are the ones
Airflow's own image and compose file use. docker-compose.yaml's airflow-init and the native
Celery stack both run it after ``airflow db migrate``. The password never goes on a command line
(where ``ps`` shows it) and is never written to a file; without it this fails, saying so.
"""

from __future__ import annotations

import os
import sys

USERNAME_VARIABLE = "_AIRFLOW_WWW_USER_USERNAME"
PASSWORD_VARIABLE = "_AIRFLOW_WWW_USER_PASSWORD"
DEFAULT_USERNAME = "admin"


class MissingAdminPassword(SystemExit):
    pass


def admin_login(environ: dict[str, str] | os._Environ[str] = os.environ) -> tuple[str, str]:
    """``(username, password)`` from the environment; a clear error when the password is not set."""
    password = environ.get(PASSWORD_VARIABLE, "")
    if not password:
        raise MissingAdminPassword(
            f"set {PASSWORD_VARIABLE} to the Airflow admin's password (in the environment; "
            f".env for docker compose), and {USERNAME_VARIABLE} if not {DEFAULT_USERNAME!r}"
        )
    return environ.get(USERNAME_VARIABLE) or DEFAULT_USERNAME, password


def ensure_admin(username: str, password: str) -> str:
    """Create the admin or reset its password; says which."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        user = sm.find_user(username=username)
        if user is None:
            if not sm.add_user(username, "Airflow", "Admin", f"{username}@localhost", sm.find_role("Admin"), password):
                raise SystemExit(f"could not create the Airflow admin {username!r}")
            return f"created the Airflow admin {username!r}"
        if not sm.reset_password(user.id, password):
            raise SystemExit(f"could not set the password of the Airflow admin {username!r}")
        return f"the Airflow admin {username!r} exists; its password is the one in {PASSWORD_VARIABLE}"


def main() -> int:
    try:
        username, password = admin_login()
    except MissingAdminPassword as exc:
        print(f"fab_admin: {exc}", file=sys.stderr)
        return 2
    print(ensure_admin(username, password), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
