"""What a policy does, as lines a person reads: one a value, each with where it comes from."""

from __future__ import annotations

from aggregator.policy.file import Policy, ScopeRules, expand_username


def _scope_lines(rules: ScopeRules) -> list[str]:
    lines: list[str] = []
    if rules.logging_required is not None:
        lines.append("logging " + ("required (cannot be turned off)" if rules.logging_required else "optional"))
    if rules.retention_days is not None:
        lines.append(f"messages older than {rules.retention_days} days are deleted by the retention job")
    if rules.file_transfer is not None:
        lines.append(f"file transfer: {rules.file_transfer}")
    if rules.allowed_domains is not None:
        lines.append(f"only to and from {', '.join(rules.allowed_domains)} (others refused, held, declined)")
    if rules.disclaimer is not None:
        lines.append(f"disclaimer sent once a day per conversation: {rules.disclaimer!r}")
    if rules.banner is not None:
        lines.append(f"banner shown in every conversation: {rules.banner!r}")
    return lines


def describe(policy: Policy, source: str) -> list[str]:
    """What the policy does, one line per value, each with where it comes from."""
    lines: list[str] = []
    for key, value in sorted(policy.locked.items()):
        lines.append(f"setting {key} = {value:g}: locked (every start)  [{source}: locked.{key}]")
    for key, value in sorted(policy.defaults.items()):
        lines.append(f"setting {key} = {value:g}: default, seeded once  [{source}: defaults.{key}]")
    for i, spec in enumerate(policy.profiles):
        where = f"[{source}: profiles[{i}]]"
        if spec.offboard:
            lines.append(f"profile {spec.name}: offboarded: its account and password are removed  {where}")
            continue
        username = expand_username(spec.username)
        who = username if username is not None else f"{spec.username or '(asked)'} (asked at first start)"
        extra = [f"server {spec.server}"] if spec.server else []
        extra += [f"CA {spec.ca_file}"] if spec.ca_file else []
        extra += [f"autojoin {', '.join(spec.autojoin)}"] if spec.autojoin else []
        extra += [f"locked {', '.join(sorted(spec.locked))}"] if spec.locked else []
        lines.append(
            f"profile {spec.name}: {spec.protocol} account {who}, {spec.sphere.value}"
            + (f" ({'; '.join(extra)})" if extra else "")
            + f"  {where}"
        )
    for sphere, rules in sorted(policy.spheres.items()):
        for line in _scope_lines(rules):
            lines.append(f"{sphere.value} accounts: {line}  [{source}: rules.{sphere.value}]")
    for account_id, rules in sorted(policy.accounts.items()):
        for line in _scope_lines(rules):
            lines.append(f'{account_id}: {line}  [{source}: rules.accounts."{account_id}"]')
    for i, rule in enumerate(policy.blocked_words):
        scope = ", ".join(sorted(s.value for s in rule.spheres)) + " accounts" if rule.spheres else "every account"
        what = "blocked" if rule.action == "block" else "sent only when confirmed"
        patterns = ", ".join(p.pattern for p in rule.patterns)
        lines.append(
            f"rule {rule.name}: messages matching {patterns} are {what} ({scope})  [{source}: rules.blocked_words[{i}]]"
        )
    if not policy.merge_across_spheres:
        lines.append(f"work and personal contacts cannot be merged  [{source}: rules.merge_across_spheres]")
    for name, text in sorted(policy.templates.items()):
        lines.append(f"template {name}: {text!r}  [{source}: rules.templates.{name}]")
    return lines
