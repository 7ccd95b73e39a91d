-- Ends every session of a subject. KEYS: the subject's sessions. ARGV: until, now.
local _, shift = clock(ARGV[2])
local count = 0
for _, sid in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  count = count + revoke(sid, tonumber(ARGV[1]) + shift)
end
return count
