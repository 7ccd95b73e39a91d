-- The helpers every script of the Redis store starts with.
local function fmt(x) return string.format('%.3f', x) end
-- The time scripts judge by: Redis's own clock (one for every instance) or, for tests that
-- move time, the caller's `now`. Also how far the caller's clock is behind: its times move
-- onto Redis's by `+ shift`, and back by `- shift`.
local function clock(caller_now)
  caller_now = tonumber(caller_now)
  if not $REDIS_CLOCK then return caller_now, 0 end
  local t = redis.call('TIME')
  -- In whole milliseconds, as times are stored: a stored now is never later than now.
  local now = tonumber(t[1]) + math.floor(tonumber(t[2]) / 1000) / 1000
  return now, now - caller_now
end
local function session_key(sid) return 'jwtkit:session:' .. sid end
local function subject_key(sub) return 'jwtkit:subject-sessions:' .. sub end
-- Pushes a key's expiry to `at` unless it already lasts longer.
local function keep_until(key, at)
  if redis.call('TTL', key) < 0 then
    redis.call('EXPIREAT', key, at)
  else
    redis.call('EXPIREAT', key, at, 'GT')
  end
end
-- Ends a session and records the revocation of its access tokens until `till` (on Redis's
-- clock, like every time a script stores): also for one already forgotten (its access
-- tokens may still live), not for one known to have ended before. 1 if it was live.
local function revoke(sid, till)
  local key = session_key(sid)
  local s = redis.call('HMGET', key, 'ended', 'sub')
  if s[1] == '1' then return 0 end
  redis.call('XADD', 'jwtkit:revocations', '*', 'kind', 'session', 'value', sid, 'until', fmt(till))
  if not s[1] then return 0 end
  redis.call('HSET', key, 'ended', '1')
  redis.call('ZREM', subject_key(s[2]), sid)
  return 1
end
