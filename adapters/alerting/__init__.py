"""Alert notifiers that reach outside: e-mail over SMTP and a JSON webhook (Microsoft Teams, chat tools, an incident
system). Registered under the ``brygga.notifiers`` entry-point group; the core's alert evaluation
(``brygga.alerts``) knows them only by name. See docs/alerts.md."""
