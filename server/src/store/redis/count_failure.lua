-- Counts a failure in a fixed window. KEYS: the counter. ARGV: now, window.
local v = redis.call('HMGET', KEYS[1], 'count', 'end')
local now, shift = clock(ARGV[1])
local window = tonumber(ARGV[2])
local count, window_end = tonumber(v[1]), tonumber(v[2])
if not count or window_end <= now then
  count, window_end = 1, now + window
else
  count = count + 1
end
redis.call('HSET', KEYS[1], 'count', tostring(count), 'end', fmt(window_end))
redis.call('EXPIRE', KEYS[1], math.ceil(window) + 1)
return {tostring(count), fmt(window_end - shift)}
