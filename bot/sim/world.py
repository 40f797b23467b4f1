"""The repository side of GitHub: repositories, commits, pulls, checks, statuses, labels,
reviews and comments; each change emits the webhooks GitHub would."""

from __future__ import annotations

import hashlib
from datetime import datetime

from bot.sim import limits, payloads, shapes
from bot.sim.delivery import Webhooks
from bot.sim.errors import SimError, invalid
from bot.sim.shared import State
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
    """The repository side of GitHub over the shared state; every change emits its webhooks."""

    def __init__(self, state: State, hooks: Webhooks) -> None:
        self.state = state
        self.hooks = hooks
        self._seq = 0  # commit order: Repo.history sorts by it

    # -- repositories and commits -----------------------------------------------------------

    def create_repo(
        self, full_name: str, default_branch: str = "main", files: dict[str, str] | None = None
    ) -> Repo:
        """A repository with one initial commit; the App is installed on its owner."""
        owner_login, name = full_name.split("/", 1)
        owner = self.state.user(owner_login)
        inst = next((i for i in self.state.installations.values() if i.account is owner), None)
        if inst is None:
            inst = Installation(self.state.next_id(), owner, self.state.clock())
            self.state.installations[inst.id] = inst
        r = Repo(self.state.next_id(), owner, name, default_branch, self.state.clock(), inst.id)
        self.state.repos[full_name] = r
        c = self._commit(r, [], dict(files or {}), owner, "Initial commit")
        r.branches[default_branch] = c.sha
        r.pushed_at = c.date
        return r

    def add_collaborator(self, repo: str, login: str, role: str) -> None:
        """Give a user a role: read|triage|write|maintain|admin."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}")
        self.state.repo(repo).collaborators[login] = role
        self.state.user(login)

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
            self.state.clock(),
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
        r = self.state.repo(repo)
        branch = branch or r.default_branch
        who = self.state.user(author or r.owner.login)
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
        r.pushed_at = self.state.clock()
        self.hooks.emit(
            r,
            "push",
            payloads.push(self.state.api, r, who, f"refs/heads/{branch}", before or ZERO_SHA, new),
        )
        self.request_suite(r, new[-1].sha, branch)
        for p in r.pulls.values():
            if p.state == "open" and p.head_repo == r.full_name and p.head_ref == branch:
                self._synchronize(r, p, new, who)
        # Fork heads live in the fork; their PRs are in the parent repository.
        parent = self.state.repos.get(r.fork_of) if r.fork_of else None
        for p in parent.pulls.values() if parent else []:
            if p.state == "open" and p.head_repo == r.full_name and p.head_ref == branch:
                self._synchronize(parent, p, new, who)  # type: ignore[arg-type]

    def _synchronize(self, r: Repo, p: PullRequest, new: list[Commit], who: User) -> None:
        before = p.head_sha
        p.head_sha = new[-1].sha
        p.commit_shas.extend(c.sha for c in new)
        p.updated_at = self.state.clock()
        body = self._pr_payload(r, p, who, "synchronize")
        body.update({"before": before, "after": p.head_sha})
        self.hooks.emit(r, "pull_request", body)

    # -- check suites and runs --------------------------------------------------------------

    def suite(self, r: Repo, a: App, sha: str, branch: str | None = None) -> CheckSuite:
        """The App's check suite on a commit, created on first use."""
        for s in r.check_suites.values():
            if s.app is a and s.head_sha == sha:
                return s
        if branch is None:
            branch = next(iter(r.branches_at(sha)), None)
        now = self.state.clock()
        s = CheckSuite(self.state.next_id(), sha, branch, a, now, now)
        r.check_suites[s.id] = s
        return s

    def request_suite(self, r: Repo, sha: str, branch: str) -> None:
        """On a push GitHub asks every checks App for a suite (check_suite requested)."""
        s = self.suite(r, self.state.github_app, sha, branch)
        self._emit_suite(r, s, "requested", self.state.bot, only_app=self.state.github_app)

    def suite_runs(self, r: Repo, s: CheckSuite) -> list[CheckRun]:
        """The runs of a suite."""
        return [x for x in r.check_runs.values() if x.suite_id == s.id]

    def _emit_suite(
        self, r: Repo, s: CheckSuite, action: str, sender: User, only_app: App | None = None
    ) -> None:
        body = shapes.check_suite(self.state.api, r, s, self.suite_runs(r, s))
        self.hooks.emit(
            r,
            "check_suite",
            {**payloads.envelope(self.state.api, r, sender, action), "check_suite": body},
            only_app,
        )

    def _emit_run(self, r: Repo, run: CheckRun, action: str, sender: User) -> None:
        body = shapes.check_run(self.state.api, r, run)
        s = r.check_suites[run.suite_id]
        body["check_suite"] = {
            k: v
            for k, v in shapes.check_suite(self.state.api, r, s, self.suite_runs(r, s)).items()
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
        self.hooks.emit(
            r,
            "check_run",
            {**payloads.envelope(self.state.api, r, sender, action), "check_run": body},
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
        now = self.state.clock()
        run = CheckRun(
            self.state.next_id(),
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
            run.completed_at = run.completed_at or self.state.clock()
        else:
            run.conclusion, run.completed_at = None, None

    def _maybe_complete_suite(self, r: Repo, s: CheckSuite, sender: User) -> None:
        runs = self.suite_runs(r, s)
        if runs and all(x.status == "completed" for x in runs):
            s.updated_at = self.state.clock()
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
        r = self.state.repo(repo)
        a = (
            self.state.github_app
            if app == self.state.github_app.slug
            else self.state.other_app(app)
        )
        sender = self.state.bot if a is self.state.github_app else self.state.user(f"{a.slug}[bot]")
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
        r = self.state.repo(repo)
        self._emit_run(r, r.check_runs[check_run_id], "rerequested", self.state.user(by))

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
        r = self.state.repo(repo)
        full = r.resolve(sha)
        if full is None:
            raise KeyError(sha)
        s = Status(
            self.state.next_id(),
            full,
            context,
            state,
            description,
            target_url,
            self.state.user(by),
            self.state.clock(),
        )
        r.statuses.append(s)
        self.hooks.emit(r, "status", payloads.status(self.state.api, r, s))
        return s.id

    # -- pull requests ----------------------------------------------------------------------

    def _pr_payload(self, r: Repo, p: PullRequest, sender: User, action: str) -> JSON:
        return payloads.pull_request(
            self.state.api, r, self.state.head_repo(r, p), p, sender, action
        )

    def _fork(self, r: Repo, login: str) -> Repo:
        name = f"{login}/{r.name}"
        if name not in self.state.repos:
            f = Repo(
                self.state.next_id(),
                self.state.user(login),
                r.name,
                r.default_branch,
                self.state.clock(),
                None,
                r.full_name,
            )
            f.commits = r.commits  # one object network, as for GitHub forks
            f.branches = {r.default_branch: r.branches[r.default_branch]}
            self.state.repos[name] = f
        return self.state.repos[name]

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
        r = self.state.repo(repo)
        base = base or r.default_branch
        n = r.next_number
        r.next_number += 1
        head = head or f"{author}-patch-{n}"
        holder = self._fork(r, author) if fork else r
        who = self.state.user(author)
        parent = r.branches[base]
        c = self._commit(r, [parent], files or {f"change-{n}.txt": f"{title}\n"}, who, title)
        now = self.state.clock()
        p = PullRequest(
            self.state.next_id(),
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
        self.hooks.emit(r, "pull_request", self._pr_payload(r, p, who, "opened"))
        return n

    def push_to_pull_request(
        self, repo: str, number: int, files: dict[str, str | None], message: str | None = None
    ) -> str:
        """A new commit on the PR's head branch (synchronize); returns its SHA."""
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        holder = self.state.head_repo(r, p)
        c = self._commit(r, [p.head_sha], files, p.user, message or f"Update {', '.join(files)}")
        if holder is r:
            self._advance(r, p.head_ref, p.head_sha, [c], p.user)
        else:
            holder.branches[p.head_ref] = c.sha
            self._synchronize(r, p, [c], p.user)
        return c.sha

    def set_draft(self, repo: str, number: int, draft: bool, by: str | None = None) -> None:
        """converted_to_draft / ready_for_review."""
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        p.draft = draft
        p.updated_at = self.state.clock()
        action = "converted_to_draft" if draft else "ready_for_review"
        self.hooks.emit(
            r, "pull_request", self._pr_payload(r, p, self.state.user(by or p.user.login), action)
        )

    def ensure_label(
        self, r: Repo, name: str, sender: User, color: str = "ededed", description: str = ""
    ) -> Label:
        """The repository label, created (label created) if missing."""
        found = r.label(name)
        if found is not None:
            return found
        limits.label(name, description)
        lab = Label(self.state.next_id(), name, color, description)
        r.labels[name.lower()] = lab
        body = {
            **payloads.envelope(self.state.api, r, sender, "created"),
            "label": shapes.label(self.state.api, r, lab),
        }
        self.hooks.emit(r, "label", body)
        return lab

    def label_pull(self, r: Repo, p: PullRequest, name: str, sender: User) -> None:
        """Add a label to a PR (no-op if present); emits pull_request labeled."""
        lab = self.ensure_label(r, name, sender)
        if any(x.lower() == name.lower() for x in p.labels):
            return
        p.labels.append(lab.name)
        p.updated_at = self.state.clock()  # GitHub stamps the pull request on every label change
        body = self._pr_payload(r, p, sender, "labeled")
        body["label"] = shapes.label(self.state.api, r, lab)
        self.hooks.emit(r, "pull_request", body)

    def unlabel_pull(self, r: Repo, p: PullRequest, name: str, sender: User) -> None:
        """Remove a label from a PR or 404; emits pull_request unlabeled."""
        lab = r.label(name)
        present = [x for x in p.labels if x.lower() == name.lower()]
        if lab is None or not present:
            raise SimError(404, shapes.error("Label does not exist"))
        p.labels.remove(present[0])
        p.updated_at = self.state.clock()
        body = self._pr_payload(r, p, sender, "unlabeled")
        body["label"] = shapes.label(self.state.api, r, lab)
        self.hooks.emit(r, "pull_request", body)

    def add_label(self, repo: str, number: int, name: str, by: str) -> None:
        """A person adds a label to a PR."""
        r = self.state.repo(repo)
        self.label_pull(r, self.state.pull(r, number), name, self.state.user(by))

    def remove_label(self, repo: str, number: int, name: str, by: str) -> None:
        """A person removes a label from a PR."""
        r = self.state.repo(repo)
        self.unlabel_pull(r, self.state.pull(r, number), name, self.state.user(by))

    def close_pull_request(self, repo: str, number: int, by: str | None = None) -> None:
        """Close without merging."""
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        p.state, p.closed_at = "closed", self.state.clock()
        p.updated_at = p.closed_at
        self.hooks.emit(
            r, "pull_request", self._pr_payload(r, p, self.state.user(by or p.user.login), "closed")
        )

    def reopen_pull_request(self, repo: str, number: int, by: str | None = None) -> None:
        """Reopen a closed, unmerged PR."""
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        p.state, p.closed_at, p.updated_at = "open", None, self.state.clock()
        self.hooks.emit(
            r,
            "pull_request",
            self._pr_payload(r, p, self.state.user(by or p.user.login), "reopened"),
        )

    def _merged_tree(self, r: Repo, base_sha: str, head_sha: str) -> dict[str, str | None]:
        mb = r.merge_base(base_sha, head_sha) or base_sha
        return shapes.changed_files(r, mb, head_sha)

    def merge_pull_request(self, repo: str, number: int, by: str) -> str:
        """Merge commit on base (parents: base head, PR head); emits closed(merged) + push."""
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        who = self.state.user(by)
        before = r.branches[p.base_ref]
        c = self._commit(
            r,
            [before, p.head_sha],
            self._merged_tree(r, before, p.head_sha),
            who,
            f"Merge pull request #{p.number} from {self.state.head_repo(r, p).owner.login}/{p.head_ref}\n\n{p.title}",
        )
        now = self.state.clock()
        p.state, p.merged, p.merged_at, p.closed_at, p.updated_at = "closed", True, now, now, now
        p.merged_by, p.merge_commit_sha = who, c.sha
        self.hooks.emit(r, "pull_request", self._pr_payload(r, p, who, "closed"))
        self._advance(r, p.base_ref, before, [c], who)
        return c.sha

    def start_merge_group(self, repo: str, number: int, by: str | None = None) -> str:
        """The merge queue builds its temporary branch; emits merge_group checks_requested."""
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        base_sha = r.branches[p.base_ref]
        who = self.state.user(by or p.user.login)
        c = self._commit(
            r,
            [base_sha, p.head_sha],
            self._merged_tree(r, base_sha, p.head_sha),
            who,
            f"Merge #{number}",
        )
        ref = f"gh-readonly-queue/{p.base_ref}/pr-{number}-{base_sha}"
        r.branches[ref] = c.sha
        self.hooks.emit(
            r,
            "merge_group",
            payloads.merge_group(
                self.state.api, r, who, f"refs/heads/{ref}", c, f"refs/heads/{p.base_ref}"
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
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        rv = Review(
            self.state.next_id(),
            number,
            self.state.user(login),
            state,
            body,
            commit_id or p.head_sha,
            self.state.clock(),
        )
        r.reviews.append(rv)
        self.hooks.emit(
            r,
            "pull_request_review",
            payloads.review(self.state.api, r, self.state.head_repo(r, p), p, rv, "submitted"),
        )
        return rv.id

    def dismiss_review(self, repo: str, number: int, review_id: int, by: str) -> None:
        """Dismiss a review; emits pull_request_review dismissed."""
        r = self.state.repo(repo)
        p = self.state.pull(r, number)
        rv = next(x for x in r.reviews if x.id == review_id)
        rv.state = "DISMISSED"
        body = payloads.review(self.state.api, r, self.state.head_repo(r, p), p, rv, "dismissed")
        body["sender"] = shapes.user(self.state.api, self.state.user(by))
        self.hooks.emit(r, "pull_request_review", body)

    def add_comment(self, r: Repo, number: int, who: User, text: str) -> Comment:
        """A new comment on a PR; emits issue_comment created."""
        p = self.state.pull(r, number)
        limits.comment_body(text)
        now = self.state.clock()
        c = Comment(self.state.next_id(), number, who, text, now, now, self.state.bot_app(who))
        r.comments[c.id] = c
        self.hooks.emit(
            r, "issue_comment", payloads.issue_comment(self.state.api, r, p, c, who, "created")
        )
        return c

    def update_comment(self, r: Repo, c: Comment, text: str, who: User) -> Comment:
        """Edit a comment; emits issue_comment edited with changes.body.from."""
        limits.comment_body(text)
        old, c.body, c.updated_at = c.body, text, self.state.clock()
        body = payloads.issue_comment(self.state.api, r, r.pulls[c.number], c, who, "edited")
        body["changes"] = {"body": {"from": old}}
        self.hooks.emit(r, "issue_comment", body)
        return c

    def add_reaction(self, r: Repo, comment_id: int, who: User, content: str) -> Reaction:
        """A reaction on a comment (GitHub sends no webhook for reactions)."""
        x = Reaction(self.state.next_id(), comment_id, who, content, self.state.clock())
        r.reactions.append(x)
        return x

    def comment(self, repo: str, number: int, login: str, text: str) -> int:
        """A person comments on a PR; returns the comment id."""
        r = self.state.repo(repo)
        return self.add_comment(r, number, self.state.user(login), text).id

    def edit_comment(self, repo: str, comment_id: int, text: str, by: str) -> None:
        """A person edits a comment."""
        r = self.state.repo(repo)
        self.update_comment(r, r.comments[comment_id], text, self.state.user(by))
