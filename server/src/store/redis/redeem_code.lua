-- Redeems an authorization code, once. KEYS: the code. ARGV: now.
-- {'fresh', document}, {'replayed', sid or ''} or {'unknown'}.
local now = clock(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'grant', 'expires', 'used', 'sid')
if not v[1] then return {'unknown'} end
if v[3] == '1' then
  -- The session this code starts, if it has not started yet, ends as it starts.
  redis.call('HSET', KEYS[1], 'replayed', '1')
  return {'replayed', v[4] or ''}
end
redis.call('HSET', KEYS[1], 'used', '1')
if tonumber(v[2]) <= now then return {'unknown'} end
return {'fresh', v[1]}
