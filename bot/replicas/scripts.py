"""The queue's Lua scripts: each claim, finish and put is one atomic round trip.

Keys, under a prefix `p` (default `ringbot:`):

- `p..delayed`     ZSET  serialized key -> when it is due (the Clock's epoch seconds)
- `p..q:<repo>`    ZSET  serialized key -> sequence number: the repository's waiting keys, in order
- `p..ready`       ZSET  repository -> sequence number: has waiting keys and no running job
- `p..busy`        HASH  repository -> token of the claim running its job (one per repository)
- `p..running`     HASH  repository -> the serialized key that job runs
- `p..leases`      ZSET  repository -> when its claim's lease ends (wall-clock epoch seconds)
- `p..seq`         a counter for the sequence numbers
- `p..wake`        channel: published when a repository became ready (each replica's workers look)

A repository is in `ready` exactly when it has waiting keys and is not busy. The scripts name keys
they build from the prefix, so they need a single Redis (not a cluster).
"""

from __future__ import annotations

_PRELUDE = """
local p = ARGV[1]
local function waiting(repo, m, front)
  local q = p .. 'q:' .. repo
  if redis.call('ZSCORE', q, m) then return 0 end
  local seq = redis.call('INCR', p .. 'seq')
  if front then seq = -seq end
  redis.call('ZADD', q, seq, m)
  if redis.call('HEXISTS', p .. 'busy', repo) == 0 then
    if redis.call('ZADD', p .. 'ready', 'NX', seq, repo) == 1 then
      redis.call('PUBLISH', p .. 'wake', repo)
    end
  end
  return 1
end
local function released(repo)
  redis.call('HDEL', p .. 'busy', repo)
  redis.call('HDEL', p .. 'running', repo)
  redis.call('ZREM', p .. 'leases', repo)
  if redis.call('ZCARD', p .. 'q:' .. repo) > 0 then
    redis.call('ZADD', p .. 'ready', 'NX', redis.call('INCR', p .. 'seq'), repo)
    redis.call('PUBLISH', p .. 'wake', repo)
  end
end
"""

# ARGV: prefix, repo, key, now, due. 1 when queued, 0 when it merged into an identical waiting
# key (a delayed one keeps the earlier of the two due times).
PUT = (
    _PRELUDE
    + """
local repo, m, now, due = ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('ZSCORE', p .. 'q:' .. repo, m) then return 0 end
local old = redis.call('ZSCORE', p .. 'delayed', m)
if old and tonumber(old) <= due then return 0 end
if due > now then
  redis.call('ZADD', p .. 'delayed', due, m)
  if old then return 0 end
  return 1
end
if old then redis.call('ZREM', p .. 'delayed', m) end
waiting(repo, m, false)
if old then return 0 end
return 1
"""
)

# ARGV: prefix, lease_until, token. {repo, key} of the claimed job, or nil when nothing is ready.
CLAIM = (
    _PRELUDE
    + """
for _ = 1, 10 do
  local r = redis.call('ZPOPMIN', p .. 'ready')
  if #r == 0 then return nil end
  local repo = r[1]
  if redis.call('HEXISTS', p .. 'busy', repo) == 0 then
    local k = redis.call('ZPOPMIN', p .. 'q:' .. repo)
    if #k > 0 then
      redis.call('HSET', p .. 'busy', repo, ARGV[3])
      redis.call('HSET', p .. 'running', repo, k[1])
      redis.call('ZADD', p .. 'leases', tonumber(ARGV[2]), repo)
      return {repo, k[1]}
    end
  end
end
return nil
"""
)

# ARGV: prefix, repo, token, requeue. The job is over: free the repository. With requeue (a
# replica that stops before its job ends), its key waits again, first in line. 0 when the claim
# was lost meanwhile (its lease ran out and another replica took the job back).
FINISH = (
    _PRELUDE
    + """
local repo, token = ARGV[2], ARGV[3]
if redis.call('HGET', p .. 'busy', repo) ~= token then return 0 end
if ARGV[4] == '1' then
  local m = redis.call('HGET', p .. 'running', repo)
  redis.call('HDEL', p .. 'busy', repo)
  if m then waiting(repo, m, true) end
end
released(repo)
return 1
"""
)

# ARGV: prefix, repo, token, lease_until. 1 while the claim is still ours.
RENEW = """
local p, repo = ARGV[1], ARGV[2]
if redis.call('HGET', p .. 'busy', repo) ~= ARGV[3] then return 0 end
redis.call('ZADD', p .. 'leases', 'XX', tonumber(ARGV[4]), repo)
return 1
"""

# ARGV: prefix, now (the Clock's), wall now. Moves due delayed keys to their repositories' lines,
# and takes back the jobs of claims whose lease ran out (their replica died): each waits again,
# first in line. Returns {ready repositories, running jobs, delayed keys due now or earlier}
# after that, for `idle` and `depth`.
TICK = (
    _PRELUDE
    + """
local now, wall = ARGV[2], ARGV[3]
local due = redis.call('ZRANGEBYSCORE', p .. 'delayed', '-inf', now, 'LIMIT', 0, 500)
for _, m in ipairs(due) do
  redis.call('ZREM', p .. 'delayed', m)
  waiting(cjson.decode(m)['f']['repo'], m, false)
end
local dead = redis.call('ZRANGEBYSCORE', p .. 'leases', '-inf', wall, 'LIMIT', 0, 500)
for _, repo in ipairs(dead) do
  local m = redis.call('HGET', p .. 'running', repo)
  redis.call('HDEL', p .. 'busy', repo)
  if m then waiting(repo, m, true) end
  released(repo)
end
return {
  redis.call('ZCARD', p .. 'ready'),
  redis.call('HLEN', p .. 'busy'),
  redis.call('ZCOUNT', p .. 'delayed', '-inf', now),
  #dead,
}
"""
)
