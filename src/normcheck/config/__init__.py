"""The configure stage: rule sets + a team's normcheck.yml -> one resolved
:class:`~normcheck.config.model.Config` with provenance and locks."""
