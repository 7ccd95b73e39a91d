-- Starts a session, ending the oldest of its subject beyond the cap.
-- KEYS: session, refresh token, subject's sessions[, the authorization code that starts it].
-- ARGV: sid, sub, roles, created, absolute, idle, client_id, endpoint, max per subject,
-- revoke_until, remember, jkt (empty for none).
local now, shift = clock(ARGV[4])
local absolute, idle = tonumber(ARGV[5]) + shift, tonumber(ARGV[6]) + shift
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', fmt(now))
local ended = {}
while redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[9]) do
  local oldest = redis.call('ZPOPMIN', KEYS[3])
  if revoke(oldest[1], tonumber(ARGV[10]) + shift) == 1 then table.insert(ended, oldest[1]) end
end
redis.call('HSET', KEYS[1], 'sub', ARGV[2], 'roles', ARGV[3], 'created', fmt(now),
  'absolute', fmt(absolute), 'idle', fmt(idle), 'generation', '0', 'ended', '0',
  'client_id', ARGV[7], 'endpoint', ARGV[8], 'jkt', ARGV[12])
redis.call('EXPIREAT', KEYS[1], math.ceil(math.min(absolute, idle) + tonumber(ARGV[11])))
redis.call('HSET', KEYS[2], 'sid', ARGV[1], 'generation', '0')
redis.call('EXPIREAT', KEYS[2], math.ceil(absolute + tonumber(ARGV[11])))
redis.call('ZADD', KEYS[3], absolute, ARGV[1])
keep_until(KEYS[3], math.ceil(absolute + tonumber(ARGV[11])))
-- The code learns its session (a later replay ends it), while it is still remembered: HSET
-- would make a key without an expiry. A code replayed already ends the session at once.
if KEYS[4] and redis.call('EXISTS', KEYS[4]) == 1 then
  redis.call('HSET', KEYS[4], 'sid', ARGV[1])
  if redis.call('HGET', KEYS[4], 'replayed') == '1'
    and revoke(ARGV[1], tonumber(ARGV[10]) + shift) == 1 then
    table.insert(ended, ARGV[1])
  end
end
return ended
