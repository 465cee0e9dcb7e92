"""Create the permissions Brygga's admin view checks in Airflow's FAB auth manager, and grant them to FAB's roles.

The view asks the auth manager on every request (``is_authorized_custom_view``): GET on "Brygga submissions" to see
submissions, POST on "Brygga quarantine" to replay or discard, GET on "Brygga personal data" to reveal a case in clear.
FAB can grant only a permission that exists, and nothing creates a plugin's resources, so ``airflow roles add-perms``
alone refuses them. This script creates them and grants them as Brygga's floors for SimpleAuthManager are: Viewer
(and User) see, Op also acts on quarantine, Admin also reveals personal data.

Run it where Airflow runs, after ``airflow db migrate`` (airflow-init does): ``python fab_permissions.py``. A role
is granted a permission only when the permission is created, so running it again changes nothing, and what an
administrator changes later under Security → Roles stays. It needs Airflow and the FAB provider, not Brygga.
"""

from __future__ import annotations

# (FAB action, resource) -> the built-in roles granted it when it is first created. FAB maps GET to can_read and
# POST to can_create (airflow.providers.fab.www.utils.get_fab_action_from_method_map).
GRANTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("can_read", "Brygga submissions"): ("Viewer", "User", "Op", "Admin"),
    ("can_create", "Brygga quarantine"): ("Op", "Admin"),
    ("can_read", "Brygga personal data"): ("Admin",),
}


def main() -> None:
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    with get_application_builder() as appbuilder:
        security = appbuilder.sm
        for (action, resource), roles in GRANTS.items():
            if security.get_permission(action, resource) is not None:
                print(f"{action} on {resource!r}: exists, left as it is")
                continue
            permission = security.create_permission(action, resource)
            if permission is None:
                raise SystemExit(f"could not create {action} on {resource!r}")
            for name in roles:
                role = security.find_role(name) or security.add_role(name)
                security.add_permission_to_role(role, permission)
            print(f"{action} on {resource!r}: created, granted to {', '.join(roles)}")


if __name__ == "__main__":
    main()
