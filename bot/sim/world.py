"""The world's state and every change to it, each emitting the webhooks GitHub would."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from bot.sim import limits, payloads, shapes
from bot.sim.delivery import Delivery
from bot.sim.errors import SimError, invalid, not_found
from bot.sim.state import (
    JSON,
    App,
    CheckRun,
    CheckSuite,
    Comment,
    Commit,
    Installation,
    Label,
    PullRequest,
    Reaction,
    Repo,
    Review,
    Status,
    User,
)

ZERO_SHA = "0" * 40
ROLES = ("read", "triage", "write", "maintain", "admin")


class World:
    """Repositories, users, apps and installations; mutations emit webhook deliveries."""

    def __init__(self, clock: Callable[[], datetime] | None, events: list[str]) -> None:
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._ids = 1000
        self._seq = 0
        self.users: dict[str, User] = {}
        self.repos: dict[str, Repo] = {}
        self.installations: dict[int, Installation] = {}
        self.emitted: list[Delivery] = []
        self.deliveries: list[Delivery] = []
        self.subscribed_events: set[str] = set(events)
        owner = self.user("ringbot-dev")
        self.github_app = App(1, "ringbot", "ringbot", owner, self.clock(), list(events))
        self.apps: dict[str, App] = {"ringbot": self.github_app}
        self.bot = self.user("ringbot[bot]")

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def api(self) -> str:
        """Base URL clients see; the Simulator overrides it with public_url."""
        return "http://localhost"

    def _queue(self, d: Delivery) -> None:
        """Hand a subscribed delivery to the transport (the Simulator overrides this)."""

    def next_id(self) -> int:
        """A fresh id, unique across every object kind."""
        self._ids += 1
        return self._ids

    def user(self, login: str) -> User:
        """The account with this login, created on first use; `...[bot]` logins are bots."""
        if login not in self.users:
            kind = "Bot" if login.endswith("[bot]") else "User"
            self.users[login] = User(login, 100 + len(self.users), kind)
        return self.users[login]

    def other_app(self, slug: str) -> App:
        """A third-party App (e.g. CI) by slug, created on first use."""
        if slug not in self.apps:
            owner = self.user(f"{slug}-org")
            ident = len(self.apps) + 1
            self.apps[slug] = App(ident, slug, slug, owner, self.clock(), ["check_run"])
        return self.apps[slug]

    def repo(self, full_name: str) -> Repo:
        """The repository state (dataclasses in bot.sim.state) for owner/name."""
        try:
            return self.repos[full_name]
        except KeyError:
            raise KeyError(f"no repository {full_name!r} in the simulator") from None

    def pull(self, r: Repo, number: int) -> PullRequest:
        """A pull request or 404."""
        if number not in r.pulls:
            raise not_found()
        return r.pulls[number]

    def role(self, r: Repo, login: str) -> str:
        """A user's role on the repository: the owner is admin, strangers have none."""
        if login == r.owner.login:
            return "admin"
        return r.collaborators.get(login, "none")

    def emit(self, r: Repo, event: str, payload: JSON, only_app: App | None = None) -> None:
        """Record an event; deliver it if the repo is installed, subscribed and meant for us."""
        if r.installation_id is None:
            return  # the App is not installed there: GitHub sends it nothing
        d = Delivery(str(uuid.uuid4()), event, payload.get("action"), payload)
        self.emitted.append(d)
        if event in self.subscribed_events and (only_app is None or only_app is self.github_app):
            self.deliveries.append(d)
            self._queue(d)

    def _bot_app(self, u: User) -> App | None:
        return self.github_app if u is self.bot else None

    # -- repositories and commits -----------------------------------------------------------

    def create_repo(
        self, full_name: str, default_branch: str = "main", files: dict[str, str] | None = None
    ) -> Repo:
        """A repository with one initial commit; the App is installed on its owner."""
        owner_login, name = full_name.split("/", 1)
        owner = self.user(owner_login)
        inst = next((i for i in self.installations.values() if i.account is owner), None)
        if inst is None:
            inst = Installation(self.next_id(), owner, self.clock())
            self.installations[inst.id] = inst
        r = Repo(self.next_id(), owner, name, default_branch, self.clock(), inst.id)
        self.repos[full_name] = r
        c = self._commit(r, [], dict(files or {}), owner, "Initial commit")
        r.branches[default_branch] = c.sha
        r.pushed_at = c.date
        return r

    def add_collaborator(self, repo: str, login: str, role: str) -> None:
        """Give a user a role: read|triage|write|maintain|admin."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        self.repo(repo).collaborators[login] = role
        self.user(login)

    def _commit(
        self,
        r: Repo,
        parents: list[str],
        files: dict[str, str | None],
        author: User,
        message: str,
        base: dict[str, str] | None = None,
    ) -> Commit:
        """A new commit object: `files` applied to `base` (None deletes a path)."""
        tree = dict(base if base is not None else (r.commits[parents[0]].files if parents else {}))
        for path, content in files.items():
            if content is None:
                tree.pop(path, None)
            else:
                tree[path] = content
        self._seq += 1
        seed = f"{self._seq}\0{parents}\0{message}\0{sorted(tree.items())}"
        c = Commit(
            hashlib.sha1(seed.encode()).hexdigest(),
            self._seq,
            parents,
            message,
            author,
            self.clock(),
            tree,
        )
        r.commits[c.sha] = c
        return c

    def push(
        self,
        repo: str,
        files: dict[str, str | None],
        branch: str | None = None,
        author: str | None = None,
        message: str | None = None,
    ) -> str:
        """A new commit on `branch` (created from the default branch if new); emits push."""
        r = self.repo(repo)
        branch = branch or r.default_branch
        who = self.user(author or r.owner.login)
        before = r.branches.get(branch)
        parent = before or r.branches[r.default_branch]
        c = self._commit(r, [parent], files, who, message or f"Update {', '.join(files)}")
        self._advance(r, branch, before, [c], who)
        return c.sha

    def _advance(
        self, r: Repo, branch: str, before: str | None, new: list[Commit], who: User
    ) -> None:
        """Move a branch to its new head; emits push, check_suite requested and synchronize."""
        r.branches[branch] = new[-1].sha
        r.pushed_at = self.clock()
        self.emit(
            r,
            "push",
            payloads.push(self.api, r, who, f"refs/heads/{branch}", before or ZERO_SHA, new),
        )
        self.request_suite(r, new[-1].sha, branch)
        for p in r.pulls.values():
            if p.state == "open" and p.head_repo == r.full_name and p.head_ref == branch:
                self._synchronize(r, p, new, who)
        # Fork heads live in the fork; their PRs are in the parent repository.
        parent = self.repos.get(r.fork_of) if r.fork_of else None
        for p in parent.pulls.values() if parent else []:
            if p.state == "open" and p.head_repo == r.full_name and p.head_ref == branch:
                self._synchronize(parent, p, new, who)  # type: ignore[arg-type]

    def _synchronize(self, r: Repo, p: PullRequest, new: list[Commit], who: User) -> None:
        before = p.head_sha
        p.head_sha = new[-1].sha
        p.commit_shas.extend(c.sha for c in new)
        p.updated_at = self.clock()
        body = self._pr_payload(r, p, who, "synchronize")
        body.update({"before": before, "after": p.head_sha})
        self.emit(r, "pull_request", body)

    # -- check suites and runs --------------------------------------------------------------

    def suite(self, r: Repo, a: App, sha: str, branch: str | None = None) -> CheckSuite:
        """The App's check suite on a commit, created on first use."""
        for s in r.check_suites.values():
            if s.app is a and s.head_sha == sha:
                return s
        if branch is None:
            branch = next(iter(r.branches_at(sha)), None)
        now = self.clock()
        s = CheckSuite(self.next_id(), sha, branch, a, now, now)
        r.check_suites[s.id] = s
        return s

    def request_suite(self, r: Repo, sha: str, branch: str) -> None:
        """On a push GitHub asks every checks App for a suite (check_suite requested)."""
        s = self.suite(r, self.github_app, sha, branch)
        self._emit_suite(r, s, "requested", self.bot, only_app=self.github_app)

    def suite_runs(self, r: Repo, s: CheckSuite) -> list[CheckRun]:
        """The runs of a suite."""
        return [x for x in r.check_runs.values() if x.suite_id == s.id]

    def _emit_suite(
        self, r: Repo, s: CheckSuite, action: str, sender: User, only_app: App | None = None
    ) -> None:
        body = shapes.check_suite(self.api, r, s, self.suite_runs(r, s))
        self.emit(
            r,
            "check_suite",
            {**payloads.envelope(self.api, r, sender, action), "check_suite": body},
            only_app,
        )

    def _emit_run(self, r: Repo, run: CheckRun, action: str, sender: User) -> None:
        body = shapes.check_run(self.api, r, run)
        s = r.check_suites[run.suite_id]
        body["check_suite"] = {
            k: v
            for k, v in shapes.check_suite(self.api, r, s, self.suite_runs(r, s)).items()
            if k
            not in (
                "head_commit",
                "latest_check_runs_count",
                "check_runs_url",
                "rerequestable",
                "runs_rerequestable",
            )
        }
        only = run.app if action in ("rerequested", "requested_action") else None
        self.emit(
            r,
            "check_run",
            {**payloads.envelope(self.api, r, sender, action), "check_run": body},
            only,
        )

    def create_check_run(self, r: Repo, a: App, sender: User, fields: JSON) -> CheckRun:
        """A new check run from API-style fields; emits created (and completed if done)."""
        limits.check_output(fields.get("output"))
        sha = r.resolve(fields["head_sha"])
        if sha is None or (sha != fields["head_sha"] and len(fields["head_sha"]) != 40):
            raise invalid(
                "CheckRun", "head_sha", message=f"No commit found for SHA: {fields['head_sha']}"
            )
        s = self.suite(r, a, sha)
        now = self.clock()
        run = CheckRun(
            self.next_id(),
            sha,
            fields["name"],
            a,
            s.id,
            "queued",
            None,
            now,
            None,
        )
        r.check_runs[run.id] = run
        self._apply_run_fields(run, fields)
        s.updated_at = now
        self._emit_run(r, run, "created", sender)
        if run.status == "completed":
            self._emit_run(r, run, "completed", sender)
            self._maybe_complete_suite(r, s, sender)
        return run

    def update_check_run(self, r: Repo, run: CheckRun, sender: User, fields: JSON) -> CheckRun:
        """Apply an update; emits completed when the run becomes completed."""
        limits.check_output(fields.get("output"))
        was = run.status
        self._apply_run_fields(run, fields)
        if run.status == "completed" and was != "completed":
            self._emit_run(r, run, "completed", sender)
            self._maybe_complete_suite(r, r.check_suites[run.suite_id], sender)
        return run

    def _apply_run_fields(self, run: CheckRun, f: JSON) -> None:
        for key in ("name", "external_id", "details_url"):
            if f.get(key) is not None:
                setattr(run, key, f[key])
        if f.get("output"):
            run.output = {**run.output, **f["output"]}
        if f.get("started_at"):
            run.started_at = datetime.fromisoformat(f["started_at"].replace("Z", "+00:00"))
        if f.get("status"):
            run.status = f["status"]
        if f.get("conclusion"):
            run.conclusion = f["conclusion"]
            run.status = "completed"  # a conclusion implies completed, as on GitHub
        if run.status == "completed":
            run.conclusion = run.conclusion or "neutral"
            if f.get("completed_at"):
                run.completed_at = datetime.fromisoformat(f["completed_at"].replace("Z", "+00:00"))
            run.completed_at = run.completed_at or self.clock()
        else:
            run.conclusion, run.completed_at = None, None

    def _maybe_complete_suite(self, r: Repo, s: CheckSuite, sender: User) -> None:
        runs = self.suite_runs(r, s)
        if runs and all(x.status == "completed" for x in runs):
            s.updated_at = self.clock()
            self._emit_suite(r, s, "completed", sender)

    def set_check_run(
        self,
        repo: str,
        sha: str,
        name: str,
        status: str = "completed",
        conclusion: str | None = "success",
        app: str = "ci",
        output: JSON | None = None,
    ) -> int:
        """CI reports a check run: updates its open run of that name or creates one; returns the id."""
        r = self.repo(repo)
        a = self.github_app if app == self.github_app.slug else self.other_app(app)
        sender = self.bot if a is self.github_app else self.user(f"{a.slug}[bot]")
        fields: JSON = {"name": name, "head_sha": sha, "status": status, "output": output or {}}
        if status == "completed":
            fields["conclusion"] = conclusion
        runs = [
            x for x in r.check_runs.values() if x.app is a and x.head_sha == sha and x.name == name
        ]
        if runs and runs[-1].status != "completed":
            return self.update_check_run(r, runs[-1], sender, fields).id
        return self.create_check_run(r, a, sender, fields).id

    def rerequest_check_run(self, repo: str, check_run_id: int, by: str) -> None:
        """Someone clicks "Re-run": check_run rerequested (sent only to the run's App)."""
        r = self.repo(repo)
        self._emit_run(r, r.check_runs[check_run_id], "rerequested", self.user(by))

    # -- statuses ---------------------------------------------------------------------------

    def set_status(
        self,
        repo: str,
        sha: str,
        context: str,
        state: str,
        by: str = "jenkins",
        description: str | None = None,
        target_url: str | None = None,
    ) -> int:
        """A commit status from another CI; emits status; returns its id."""
        r = self.repo(repo)
        full = r.resolve(sha)
        if full is None:
            raise KeyError(sha)
        s = Status(
            self.next_id(),
            full,
            context,
            state,
            description,
            target_url,
            self.user(by),
            self.clock(),
        )
        r.statuses.append(s)
        self.emit(r, "status", payloads.status(self.api, r, s))
        return s.id

    # -- pull requests ----------------------------------------------------------------------

    def head_repo(self, r: Repo, p: PullRequest) -> Repo:
        """The repository holding a pull request's head branch."""
        return self.repos.get(p.head_repo, r)

    def _pr_payload(self, r: Repo, p: PullRequest, sender: User, action: str) -> JSON:
        return payloads.pull_request(self.api, r, self.head_repo(r, p), p, sender, action)

    def _fork(self, r: Repo, login: str) -> Repo:
        name = f"{login}/{r.name}"
        if name not in self.repos:
            f = Repo(
                self.next_id(),
                self.user(login),
                r.name,
                r.default_branch,
                self.clock(),
                None,
                r.full_name,
            )
            f.commits = r.commits  # one object network, as for GitHub forks
            f.branches = {r.default_branch: r.branches[r.default_branch]}
            self.repos[name] = f
        return self.repos[name]

    def open_pull_request(
        self,
        repo: str,
        author: str,
        title: str,
        files: dict[str, str | None] | None = None,
        draft: bool = False,
        base: str | None = None,
        fork: bool = False,
        head: str | None = None,
        body: str = "",
    ) -> int:
        """Push a head branch with one commit and open a PR from it; returns the number."""
        r = self.repo(repo)
        base = base or r.default_branch
        n = r.next_number
        r.next_number += 1
        head = head or f"{author}-patch-{n}"
        holder = self._fork(r, author) if fork else r
        who = self.user(author)
        parent = r.branches[base]
        c = self._commit(r, [parent], files or {f"change-{n}.txt": f"{title}\n"}, who, title)
        now = self.clock()
        p = PullRequest(
            self.next_id(),
            n,
            title,
            body,
            who,
            head,
            c.sha,
            holder.full_name,
            base,
            now,
            now,
            draft,
        )
        p.commit_shas.append(c.sha)
        if holder is r:
            self._advance(r, head, None, [c], who)
        else:
            holder.branches[head] = c.sha
        r.pulls[n] = p
        self.emit(r, "pull_request", self._pr_payload(r, p, who, "opened"))
        return n

    def push_to_pull_request(
        self, repo: str, number: int, files: dict[str, str | None], message: str | None = None
    ) -> str:
        """A new commit on the PR's head branch (synchronize); returns its SHA."""
        r = self.repo(repo)
        p = self.pull(r, number)
        holder = self.head_repo(r, p)
        c = self._commit(r, [p.head_sha], files, p.user, message or f"Update {', '.join(files)}")
        if holder is r:
            self._advance(r, p.head_ref, p.head_sha, [c], p.user)
        else:
            holder.branches[p.head_ref] = c.sha
            self._synchronize(r, p, [c], p.user)
        return c.sha

    def set_draft(self, repo: str, number: int, draft: bool, by: str | None = None) -> None:
        """converted_to_draft / ready_for_review."""
        r = self.repo(repo)
        p = self.pull(r, number)
        p.draft = draft
        p.updated_at = self.clock()
        action = "converted_to_draft" if draft else "ready_for_review"
        self.emit(r, "pull_request", self._pr_payload(r, p, self.user(by or p.user.login), action))

    def ensure_label(
        self, r: Repo, name: str, sender: User, color: str = "ededed", description: str = ""
    ) -> Label:
        """The repository label, created (label created) if missing."""
        found = r.label(name)
        if found is not None:
            return found
        limits.label(name, description)
        lab = Label(self.next_id(), name, color, description)
        r.labels[name.lower()] = lab
        body = {
            **payloads.envelope(self.api, r, sender, "created"),
            "label": shapes.label(self.api, r, lab),
        }
        self.emit(r, "label", body)
        return lab

    def label_pull(self, r: Repo, p: PullRequest, name: str, sender: User) -> None:
        """Add a label to a PR (no-op if present); emits pull_request labeled."""
        lab = self.ensure_label(r, name, sender)
        if any(x.lower() == name.lower() for x in p.labels):
            return
        p.labels.append(lab.name)
        p.updated_at = self.clock()  # GitHub stamps the pull request on every label change
        body = self._pr_payload(r, p, sender, "labeled")
        body["label"] = shapes.label(self.api, r, lab)
        self.emit(r, "pull_request", body)

    def unlabel_pull(self, r: Repo, p: PullRequest, name: str, sender: User) -> None:
        """Remove a label from a PR or 404; emits pull_request unlabeled."""
        lab = r.label(name)
        present = [x for x in p.labels if x.lower() == name.lower()]
        if lab is None or not present:
            raise SimError(404, shapes.error("Label does not exist"))
        p.labels.remove(present[0])
        p.updated_at = self.clock()
        body = self._pr_payload(r, p, sender, "unlabeled")
        body["label"] = shapes.label(self.api, r, lab)
        self.emit(r, "pull_request", body)

    def add_label(self, repo: str, number: int, name: str, by: str) -> None:
        """A person adds a label to a PR."""
        r = self.repo(repo)
        self.label_pull(r, self.pull(r, number), name, self.user(by))

    def remove_label(self, repo: str, number: int, name: str, by: str) -> None:
        """A person removes a label from a PR."""
        r = self.repo(repo)
        self.unlabel_pull(r, self.pull(r, number), name, self.user(by))

    def close_pull_request(self, repo: str, number: int, by: str | None = None) -> None:
        """Close without merging."""
        r = self.repo(repo)
        p = self.pull(r, number)
        p.state, p.closed_at = "closed", self.clock()
        p.updated_at = p.closed_at
        self.emit(
            r, "pull_request", self._pr_payload(r, p, self.user(by or p.user.login), "closed")
        )

    def reopen_pull_request(self, repo: str, number: int, by: str | None = None) -> None:
        """Reopen a closed, unmerged PR."""
        r = self.repo(repo)
        p = self.pull(r, number)
        p.state, p.closed_at, p.updated_at = "open", None, self.clock()
        self.emit(
            r, "pull_request", self._pr_payload(r, p, self.user(by or p.user.login), "reopened")
        )

    def _merged_tree(self, r: Repo, base_sha: str, head_sha: str) -> dict[str, str | None]:
        mb = r.merge_base(base_sha, head_sha) or base_sha
        return shapes.changed_files(r, mb, head_sha)

    def merge_pull_request(self, repo: str, number: int, by: str) -> str:
        """Merge commit on base (parents: base head, PR head); emits closed(merged) + push."""
        r = self.repo(repo)
        p = self.pull(r, number)
        who = self.user(by)
        before = r.branches[p.base_ref]
        c = self._commit(
            r,
            [before, p.head_sha],
            self._merged_tree(r, before, p.head_sha),
            who,
            f"Merge pull request #{p.number} from {self.head_repo(r, p).owner.login}/{p.head_ref}\n\n{p.title}",
        )
        now = self.clock()
        p.state, p.merged, p.merged_at, p.closed_at, p.updated_at = "closed", True, now, now, now
        p.merged_by, p.merge_commit_sha = who, c.sha
        self.emit(r, "pull_request", self._pr_payload(r, p, who, "closed"))
        self._advance(r, p.base_ref, before, [c], who)
        return c.sha

    def start_merge_group(self, repo: str, number: int, by: str | None = None) -> str:
        """The merge queue builds its temporary branch; emits merge_group checks_requested."""
        r = self.repo(repo)
        p = self.pull(r, number)
        base_sha = r.branches[p.base_ref]
        who = self.user(by or p.user.login)
        c = self._commit(
            r,
            [base_sha, p.head_sha],
            self._merged_tree(r, base_sha, p.head_sha),
            who,
            f"Merge #{number}",
        )
        ref = f"gh-readonly-queue/{p.base_ref}/pr-{number}-{base_sha}"
        r.branches[ref] = c.sha
        self.emit(
            r,
            "merge_group",
            payloads.merge_group(
                self.api, r, who, f"refs/heads/{ref}", c, f"refs/heads/{p.base_ref}"
            ),
        )
        self.request_suite(r, c.sha, ref)
        return c.sha

    # -- reviews and comments ---------------------------------------------------------------

    def review(
        self,
        repo: str,
        number: int,
        login: str,
        state: str,
        commit_id: str | None = None,
        body: str = "",
    ) -> int:
        """Submit a review (APPROVED|CHANGES_REQUESTED|COMMENTED); returns its id."""
        r = self.repo(repo)
        p = self.pull(r, number)
        rv = Review(
            self.next_id(),
            number,
            self.user(login),
            state,
            body,
            commit_id or p.head_sha,
            self.clock(),
        )
        r.reviews.append(rv)
        self.emit(
            r,
            "pull_request_review",
            payloads.review(self.api, r, self.head_repo(r, p), p, rv, "submitted"),
        )
        return rv.id

    def dismiss_review(self, repo: str, number: int, review_id: int, by: str) -> None:
        """Dismiss a review; emits pull_request_review dismissed."""
        r = self.repo(repo)
        p = self.pull(r, number)
        rv = next(x for x in r.reviews if x.id == review_id)
        rv.state = "DISMISSED"
        body = payloads.review(self.api, r, self.head_repo(r, p), p, rv, "dismissed")
        body["sender"] = shapes.user(self.api, self.user(by))
        self.emit(r, "pull_request_review", body)

    def add_comment(self, r: Repo, number: int, who: User, text: str) -> Comment:
        """A new comment on a PR; emits issue_comment created."""
        p = self.pull(r, number)
        limits.comment_body(text)
        now = self.clock()
        c = Comment(self.next_id(), number, who, text, now, now, self._bot_app(who))
        r.comments[c.id] = c
        self.emit(r, "issue_comment", payloads.issue_comment(self.api, r, p, c, who, "created"))
        return c

    def update_comment(self, r: Repo, c: Comment, text: str, who: User) -> Comment:
        """Edit a comment; emits issue_comment edited with changes.body.from."""
        limits.comment_body(text)
        old, c.body, c.updated_at = c.body, text, self.clock()
        body = payloads.issue_comment(self.api, r, r.pulls[c.number], c, who, "edited")
        body["changes"] = {"body": {"from": old}}
        self.emit(r, "issue_comment", body)
        return c

    def add_reaction(self, r: Repo, comment_id: int, who: User, content: str) -> Reaction:
        """A reaction on a comment (GitHub sends no webhook for reactions)."""
        x = Reaction(self.next_id(), comment_id, who, content, self.clock())
        r.reactions.append(x)
        return x

    def comment(self, repo: str, number: int, login: str, text: str) -> int:
        """A person comments on a PR; returns the comment id."""
        r = self.repo(repo)
        return self.add_comment(r, number, self.user(login), text).id

    def edit_comment(self, repo: str, comment_id: int, text: str, by: str) -> None:
        """A person edits a comment."""
        r = self.repo(repo)
        self.update_comment(r, r.comments[comment_id], text, self.user(by))
