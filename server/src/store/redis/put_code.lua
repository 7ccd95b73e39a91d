-- Keeps an authorization code's document. KEYS: the code. ARGV: now, lifetime, document,
-- how long a redeemed code is remembered after its lifetime.
local now = clock(ARGV[1])
local lifetime = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], 'grant', ARGV[3], 'expires', fmt(now + lifetime))
redis.call('EXPIRE', KEYS[1], math.ceil(lifetime + tonumber(ARGV[4])))
return 1
