-- A failure counter as it stands. KEYS: the counter. ARGV: now.
local now, shift = clock(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'count', 'end')
local count, window_end = tonumber(v[1]), tonumber(v[2])
if not count or window_end <= now then return {'0', fmt(now - shift)} end
return {tostring(count), fmt(window_end - shift)}
