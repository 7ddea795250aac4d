"""The user's message templates on a profile no instance runs, with the organisation's (from the
policy file) beside them; the running app's are ``App.templates``, the same store."""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.paths import ProfilePaths
from aggregator.policy.file import load_policy
from aggregator.settings import Settings
from aggregator.templates import TemplateStore

__all__ = ["ProfileTemplates", "TemplateStore", "templates"]


@dataclass(frozen=True, slots=True)
class ProfileTemplates:
    """The store, and why the organisation's templates are missing (an unusable policy file), if so."""

    store: TemplateStore
    policy_error: str


def templates(paths: ProfilePaths) -> ProfileTemplates:
    load = load_policy(setting_names=Settings.names())
    organisation = load.policy.templates if load.policy is not None else {}
    return ProfileTemplates(TemplateStore.for_profile(paths, organisation), load.error)
