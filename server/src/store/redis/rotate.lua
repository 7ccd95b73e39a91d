-- Rotates a refresh token: consume, detect reuse, issue the successor, all or nothing.
-- KEYS: presented, successor. ARGV: now, grace, idle, sealed, revoke_until, remember.
-- `$` marks the session hash's fields, filled in (in their declared order) when loaded.
local tok = redis.call('HMGET', KEYS[1], 'sid', 'generation', 'rotated_at', 'successor')
if not tok[1] then return {'unknown'} end
local sid = tok[1]
local skey = session_key(sid)
local s = redis.call('HMGET', skey, $SESSION_FIELDS)
if not s[1] then return {'unknown'} end
if s[7] == '1' then return {'revoked'} end
local now, shift = clock(ARGV[1])
local grace, idle = tonumber(ARGV[2]), tonumber(ARGV[3])
-- A stored time, moved onto the caller's clock.
local function back(t) return fmt(tonumber(t) - shift) end
local absolute, idle_expiry = tonumber(s[4]), tonumber(s[5])
if now >= math.min(absolute, idle_expiry) then return {'expired'} end
local generation, current = tonumber(tok[2]), tonumber(s[6])
local new_idle = now + idle
local keep = math.ceil(math.min(absolute, new_idle) + tonumber(ARGV[6]))
local keep_tokens = math.ceil(absolute + tonumber(ARGV[6]))
if generation == current then
  redis.call('HSET', KEYS[1], 'rotated_at', fmt(now), 'successor', ARGV[4])
  redis.call('HSET', KEYS[2], 'sid', sid, 'generation', tostring(current + 1))
  redis.call('EXPIREAT', KEYS[2], keep_tokens)
  redis.call('HSET', skey, 'generation', tostring(current + 1), 'idle', fmt(new_idle))
  redis.call('EXPIREAT', skey, keep)
  return {'rotated', sid, s[1], s[2], back(s[3]), back(s[4]), back(new_idle), tostring(current + 1),
    s[8] or s[1], s[9] or 'auth', s[10] or ''}
end
if generation + 1 == current and tok[3] and tok[4] and now - tonumber(tok[3]) < grace then
  redis.call('HSET', skey, 'idle', fmt(new_idle))
  redis.call('EXPIREAT', skey, keep)
  return {'grace', sid, s[1], s[2], back(s[3]), back(s[4]), back(new_idle), s[6],
    s[8] or s[1], s[9] or 'auth', s[10] or '', tok[4]}
end
revoke(sid, tonumber(ARGV[5]) + shift)
return {'reused', sid}
